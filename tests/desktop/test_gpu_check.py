"""`python -m benchmarks --gpu --dry-run`: the GPU check's every code path (training speed options,
inference paths, the training panel's worker offscreen, a real 1-process torchrun with gloo) on the
CPU with tiny models, so the command is ready the first time a GPU is. Asserts that it runs and
what its table holds, never a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # five Python processes (the check, its panel, torchrun and two workers)


@pytest.mark.timeout(900)  # ~40 s on a busy 2-core machine; minutes when the cores are oversubscribed
def test_gpu_check_dry_run_runs_every_section(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    out = tmp_path / "gpu_check.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--dry-run", "--json", str(out)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=840)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "DRY RUN" in done.stdout
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert not [r for r in rows if "FAILED" in r["note"] or "failed" in r["what"]], rows
    what = {(r["section"], r["what"], r["batch"]) for r in rows}
    for batch in (1, 2):
        for path in ("reference", "reference + bf16", "reference + channels_last", "reference + compile",
                     "reference + fused_adam",
                     "reference + bf16 + channels_last + fused_adam + cudnn_benchmark + compile",
                     "ours (loop defaults)", "ours (--bf16 --channels-last)"):
            assert ("training", path, batch) in what, path
    assert {r["section"] for r in rows} == {"training", "inference", "panel", "torchrun"}
    torchrun = [r for r in rows if r["section"] == "torchrun"]
    assert any("gloo group" in r["what"] for r in torchrun)
    assert any("roadstudio-cli train" in r["what"] and "finished: max_steps" in r["note"] for r in torchrun)
    panel = next(r for r in rows if r["section"] == "panel")
    assert "steps/s" in panel["rate"] and "GUI stall" in panel["note"]
    assert len([r for r in rows if r["section"] == "inference"]) == 5


def test_benchmarks_gpu_flag_needs_gpu_for_dry_run() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--dry-run"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 2 and "--dry-run goes with --gpu" in done.stderr
