"""The benchmark scripts behind issue 18's speed tables still run against today's code (the
training-step benchmark once broke silently when the loop's step grew a field). Each runs in its
own process with the fewest steps it allows; asserts that it runs and what its table holds, never
a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.timeout(600)
def test_train_step_bench_times_the_loops_own_step(tmp_path: Path) -> None:
    out = tmp_path / "train_step.json"
    done = _run(["benchmarks.train_step_bench", "--batches", "1", "--variants", "eager (before)", "now (loop)",
                 "--repeats", "1", "--json", str(out)])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(out.read_text())
    rows = result["runs"][0]["rows"]  # variant name -> its timings
    assert list(rows) == ["eager (before)", "now (loop)"]
    assert all(row["median_s"] > 0 for row in rows.values())
    assert "| 1 | **now (loop)** |" in done.stdout


@pytest.mark.timeout(600)
def test_preview_latency_bench_runs_the_bundled_model_as_the_app_does() -> None:
    done = _run(["benchmarks.preview_latency_bench", "--repeats", "2"])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "'omp_wait_policy': 'PASSIVE'" in done.stdout  # the app's thread policy, not the default
    assert any(line.startswith("| default |") for line in done.stdout.splitlines()), done.stdout
