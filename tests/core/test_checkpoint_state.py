"""The full training state: round trip bit-exact, loads with weights_only, refuses code."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from core.weights.checkpoints import load_any_generator, load_training_state, save_training_state
from core.errors import CheckpointError
from core.train.loop import train
from core.train.state import STATE_FORMAT, capture_rng_state, restore_rng_state
from tests.core.train_helpers import tiny_config, tiny_sources

pytestmark = pytest.mark.usefixtures("one_torch_thread")

STATE_KEYS = {"format", "generator", "discriminator", "optimizer_G", "optimizer_D", "scheduler", "step", "epoch",
              "consumed", "best_val_l1", "best_realism", "class_pixels", "collapse_streak", "train_pairs", "rng",
              "config", "generator_config", "card"}


def assert_identical(a: Any, b: Any, where: str = "state") -> None:
    """Same structure, and every tensor equal bit for bit (dtype included)."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape, where
        if not torch.equal(a, b):
            diff = (a.double() - b.double()).abs().max().item() if a.is_floating_point() else "n/a"
            pytest.fail(f"{where} differs (max |a - b| = {diff})")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("state") / "run"
    list(train(tiny_config(max_steps=3), run, sources=tiny_sources(val=2)))
    return run


def test_state_holds_everything_needed_to_resume(trained_run: Path) -> None:
    state = load_training_state(trained_run / "checkpoints/last.pt")
    assert set(state) == STATE_KEYS
    assert state["format"] == STATE_FORMAT and state["step"] == 3 and state["epoch"] == 1 and state["consumed"] == 2
    assert state["optimizer_G"]["state"] and state["optimizer_D"]["state"]  # Adam moments exist
    assert "running_mean" in " ".join(state["generator"])  # BatchNorm statistics
    assert state["scheduler"]["lr"] == pytest.approx(2e-4)
    assert set(state["rng"]) == {"python", "numpy", "torch", "cuda"}
    assert state["config"]["train"]["seed"] == 1 and state["generator_config"]["ngf"] == 8


def test_round_trip_is_bit_exact(trained_run: Path, tmp_path: Path) -> None:
    state = load_training_state(trained_run / "checkpoints/last.pt")
    copy = save_training_state(tmp_path / "copy.pt", state)
    assert_identical(state, load_training_state(copy))
    # the .safetensors next to it holds exactly the same generator
    weights = load_file(str(trained_run / "checkpoints/last.safetensors"))
    assert_identical(weights, dict(state["generator"]))
    # and the state alone rebuilds that generator for inference
    loaded = load_any_generator(trained_run / "checkpoints/last.pt")
    assert_identical(dict(loaded.model.state_dict()), state["generator"])
    assert loaded.card["step"] == 3


def test_rng_states_restore_every_generator() -> None:
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    np.random.normal()  # leaves a cached gaussian in numpy's legacy state
    saved = capture_rng_state()
    first = (random.random(), np.random.normal(), torch.rand(3))
    restore_rng_state(saved)
    again = (random.random(), np.random.normal(), torch.rand(3))
    assert first[0] == again[0] and first[1] == again[1] and torch.equal(first[2], again[2])


class _RunsCodeWhenUnpickled:
    """A pickle payload: unpickling it would call Path.touch(marker). Harmless, but observable."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def test_a_pickle_that_carries_code_is_refused_and_never_run(tmp_path: Path, trained_run: Path) -> None:
    marker = tmp_path / "code-was-run"
    evil = tmp_path / "evil.pt"
    state = load_training_state(trained_run / "checkpoints/last.pt")
    state["card"] = _RunsCodeWhenUnpickled(marker)
    torch.save(state, evil)
    with pytest.raises(CheckpointError, match="could run code") as info:
        load_training_state(evil)
    assert "evil.pt" in str(info.value)
    # It says what was refused (the code reference) and why; never torch's advice to re-run the
    # load with weights_only=False (or to allow-list the global), which would run the payload.
    message = str(info.value)
    assert "(it references getattr)" in message and "\n" not in message  # Path.touch, pickled via getattr
    assert not any(w in message for w in ("weights_only", "False", "safe_globals", "trust"))
    assert not marker.exists()
    # Resuming from such a file is refused the same way.
    run = tmp_path / "run"
    list(train(tiny_config(max_steps=1), run, sources=tiny_sources()))
    (run / "checkpoints/last.pt").write_bytes(evil.read_bytes())
    with pytest.raises(CheckpointError, match="could run code"):
        list(train(None, run, sources=tiny_sources(), resume=True))
    assert not marker.exists()
    # The payload is real: an unsafe load would have run it (proves the test can fail).
    torch.load(evil, weights_only=False)
    assert marker.exists()
