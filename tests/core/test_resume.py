"""Exact resume: a run interrupted at any point and resumed ends bit-identical (CPU) to the same
run done in one go — weights, BatchNorm statistics, optimizer moments and all.
(kill -9 of a real `python -m core train` process: tests/core/test_train_cli.py.)"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.weights.checkpoints import load_training_state
from core.train.control import TrainingControl
from core.train.events import Finished, Started, Step
from core.train.loop import train
from tests.core.test_checkpoint_state import assert_identical
from tests.core.train_helpers import tiny_config, tiny_sources

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Depth 6 is the smallest U-Net with dropout (levels 4..depth-2), which draws from the global RNG
# every step: the case exact resume is hardest for. 64 px, 4 filters keep it fast.
NET: dict[str, Any] = {"size": 64, "depth": 6, "ngf": 4, "ndf": 4}


def final_state(run: Path) -> dict:
    state = load_training_state(run / "checkpoints/last.pt")
    # What legitimately differs between an interrupted and a straight run: nothing that affects
    # training. (The card and config are compared too.)
    return state


def _uninterrupted(tmp_path: Path, cfg, **src) -> Path:
    run = tmp_path / "straight"
    events = list(train(cfg, run, sources=tiny_sources(**src)))
    assert isinstance(events[-1], Finished)
    return run


# 5 pairs, batch 2: 3 steps an epoch, the last one with a single pair; 6 epochs = 18 steps.
@pytest.mark.parametrize("checkpoint_every", [3, 4], ids=["at-epoch-end", "mid-epoch"])
def test_abandoned_run_resumes_bit_identical(tmp_path: Path, checkpoint_every: int) -> None:
    cfg = tiny_config(epochs=4, epochs_decay=2, checkpoint_every=checkpoint_every, sample_every=2, **NET)
    src = {"count": 5, "val": 2, "size": 64}
    straight = _uninterrupted(tmp_path, cfg, **src)

    run = tmp_path / "interrupted"
    control = TrainingControl()
    control.set_preview_labels(np.full((70, 90), 7, np.uint8))  # previews must not change the outcome
    stream = train(cfg, run, control, sources=tiny_sources(**src))
    assert isinstance(stream, Generator)  # closed below like a crash
    for event in stream:
        if isinstance(event, Step) and event.step == 11:
            break
    stream.close()  # like a crash: nothing saved after the last interval checkpoint
    resumed_from = load_training_state(run / "checkpoints/last.pt")["step"]
    assert resumed_from == (9 if checkpoint_every == 3 else 8)

    events = list(train(None, run, sources=tiny_sources(**src), resume=True))
    assert isinstance(events[0], Started) and events[0].start_step == resumed_from
    assert [e.step for e in events if isinstance(e, Step)] == list(range(resumed_from + 1, 19))
    assert events[-1] == Finished(step=18, epoch=5, reason="completed")
    assert_identical(final_state(straight), final_state(run))


def test_stopped_run_resumes_bit_identical_and_can_extend_max_steps(tmp_path: Path) -> None:
    cfg = tiny_config(epochs=4, epochs_decay=2, max_steps=7, **NET)
    src = {"count": 5, "val": 2, "size": 64}
    run = tmp_path / "short"
    assert list(train(cfg, run, sources=tiny_sources(**src)))[-1] == Finished(step=7, epoch=2, reason="max_steps")
    longer = cfg.replace(train=cfg.train.__class__(**{**cfg.train.__dict__, "max_steps": 0}))
    events = list(train(longer, run, sources=tiny_sources(**src), resume=True))
    assert events[-1] == Finished(step=18, epoch=5, reason="completed")
    straight = _uninterrupted(tmp_path, longer, **src)
    assert_identical(final_state(straight), final_state(run))
    # resuming a finished run does nothing and saves nothing new
    again = list(train(None, run, sources=tiny_sources(**src), resume=True))
    assert [e.kind for e in again] == ["started", "finished"]
