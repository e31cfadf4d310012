"""Shared test set-up: Qt runs offscreen; paths to the optional shared sample data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep tests single-threaded-ish and reproducible on the shared 2-core machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# As in the app: OpenMP threads sleep instead of spinning while waiting, so torch in worker
# threads and subprocesses does not fight for the cores (much slower steps on a busy machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Predictors in tests run eager PyTorch unless a test asks for a fast path: no ONNX exports or
# background AOTInductor compiles (tens of CPU seconds each) behind every tiny test model.
os.environ.setdefault("ROADSTUDIO_INFER_BACKEND", "eager")

# Fixture modules shared by every test folder (one_torch_thread; disk): pytest registers their
# fixtures, so test modules ask for them by name instead of importing them.
pytest_plugins = ["tests.core.train_helpers", "tests.fault_helpers"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: the real Cityscapes samples are not part of the repo."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (real Cityscapes samples live outside the repo)")
    return SHARED_DATA
