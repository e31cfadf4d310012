"""`python -m benchmarks.app_preview_latency_bench`: the in-app preview benchmark drives the real
main window (offscreen) with real strokes and reports the preview worker's timings. Asserts that
it runs and what its table holds, never a timing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_app_preview_latency_bench_paints_and_reports_each_model() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "benchmarks.app_preview_latency_bench", "--strokes", "2",
                           "--rounds", "1"], cwd=REPO, env=env, capture_output=True, text=True, timeout=560)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| default |")]
    assert len(rows) == 1, done.stdout
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1] in ("onnxruntime", "eager", "aoti")  # the backend the app's worker used
    assert float(cells[2]) > 0 and cells[4] == "1.00"
