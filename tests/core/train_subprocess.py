"""Helper for the kill -9 resume test: trains a tiny in-memory run in a separate process.

    python -m tests.core.train_subprocess RUN_DIR [--resume] [--slow]

Prints one line per event ("step 7", "checkpoint 8 interval", "finished 30 completed"), flushed,
so the parent can kill it at a known point. --slow sleeps after each step *in this consumer*,
which changes nothing the loop computes but leaves the parent time to kill mid-run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.train.events import CheckpointSaved, Failed, Finished, Step
from core.train.loop import train
from tests.core.train_helpers import tiny_config, tiny_sources

RESUME_TEST_CONFIG = dict(epochs=4, epochs_decay=2, checkpoint_every=4, sample_every=3, keep_checkpoints=1,
                          size=64, depth=6, ngf=4, ndf=4)  # depth 6: the smallest U-Net with dropout


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--slow", action="store_true")
    args = parser.parse_args()
    cfg = None if args.resume else tiny_config(**RESUME_TEST_CONFIG)  # type: ignore[arg-type]
    for event in train(cfg, args.run_dir, sources=tiny_sources(count=5, val=2, size=64), resume=args.resume):
        if isinstance(event, Step):
            print(f"step {event.step}", flush=True)
            if args.slow:
                time.sleep(0.2)
        elif isinstance(event, CheckpointSaved):
            print(f"checkpoint {event.step} {event.reason}", flush=True)
        elif isinstance(event, Finished):
            print(f"finished {event.step} {event.reason}", flush=True)
        elif isinstance(event, Failed):
            print(f"failed {event.step} {event.message}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
