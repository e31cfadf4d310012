"""Checkpoint bookkeeping of a run folder: last.* follow the newest step, pruning keeps the newest
`keep` pairs, and a file system without hard links still gets a full copy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from core.weights.checkpoints import load_training_state, load_weights
from core.config import GeneratorConfig
from core.models import build_generator
from core.train.run_files import CheckpointWriter, RunPaths, link_atomically

CFG = GeneratorConfig(depth=3, ngf=4)


def _save(writer: CheckpointWriter, step: int) -> tuple[Path, Path]:
    g = build_generator(CFG)
    return writer.save_step(step, g, {"generator": g.state_dict(), "step": step}, {"step": step})


def test_last_follows_the_newest_step_and_old_steps_are_pruned(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    writer = CheckpointWriter(paths, CFG, keep=2)
    for step in (10, 20, 30):
        weights, state = _save(writer, step)
        assert (weights, state) == (paths.step_weights(step), paths.step_state(step))
    assert writer.step_files() == [20, 30]
    assert load_training_state(paths.last_state)["step"] == 30
    assert load_weights(paths.last_weights).card["step"] == 30
    assert sorted(p.name for p in paths.checkpoints.iterdir()) == [
        "last.pt", "last.safetensors", "step_0000020.pt", "step_0000020.safetensors",
        "step_0000030.pt", "step_0000030.safetensors"]


def test_keep_zero_leaves_only_last(tmp_path: Path) -> None:
    paths = RunPaths(tmp_path)
    weights, state = _save(CheckpointWriter(paths, CFG, keep=0), 5)
    assert (weights, state) == (paths.last_weights, paths.last_state)  # the event names files that exist
    assert sorted(p.name for p in paths.checkpoints.iterdir()) == ["last.pt", "last.safetensors"]
    assert load_training_state(state)["step"] == 5


def test_without_hard_links_last_is_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args: object) -> None:
        raise OSError("hard links not supported")

    source = tmp_path / "step.pt"
    torch.save({"x": torch.arange(3)}, source)
    monkeypatch.setattr(os, "link", no_links)
    link_atomically(source, tmp_path / "last.pt")
    assert (tmp_path / "last.pt").read_bytes() == source.read_bytes()
    assert not (tmp_path / "last.pt").samefile(source)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
