"""The EMA of the generator's weights (issue 18): the analytic average with warm-up, BatchNorm
buffers averaged, exact resume, and EMA weights where a user sees or ships the generator."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from core.weights.checkpoints import load_training_state, load_weights
from core.config import RunConfig, TrainConfig, load_run_config, save_run_config
from core.errors import ConfigError
from core.train.ema import GeneratorEMA, ema_decay_at
from core.train.events import CheckpointSaved, Finished, Started, Validation
from core.train.loop import train
from tests.core.test_checkpoint_state import assert_identical
from tests.core.train_helpers import one_torch_thread, tiny_config, tiny_sources, straight_and_resumed

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)


def _with(cfg: RunConfig, **train_kw: Any) -> RunConfig:
    return cfg.replace(train=dataclasses.replace(cfg.train, **train_kw))


def test_warm_up_decay_values() -> None:
    assert ema_decay_at(0.999, 1) == pytest.approx(2 / 11)
    assert ema_decay_at(0.999, 90) == pytest.approx(91 / 100)
    assert ema_decay_at(0.9, 1000) == 0.9  # capped at the configured decay


def test_ema_equals_the_analytic_average_after_k_steps() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = GeneratorEMA(net, decay=0.5)
    expected = {k: v.double().clone() for k, v in net.state_dict().items()}
    for step in range(1, 8):
        with torch.no_grad():  # "training": new weights and a BatchNorm statistics update
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        net.train()(torch.randn(4, 3))
        ema.update(net, step)
        d = min(0.5, (1 + step) / (10 + step))
        for key, value in net.state_dict().items():
            if value.dtype.is_floating_point:
                expected[key] = d * expected[key] + (1 - d) * value.double()
            else:
                expected[key] = value.double()  # num_batches_tracked is copied
    got = ema.module.state_dict()
    assert got["1.num_batches_tracked"] == 7
    for key, value in expected.items():
        assert torch.allclose(got[key].double(), value, atol=1e-6, rtol=1e-6), key
    # and it really is an average: not the raw weights
    assert not torch.allclose(got["0.weight"], net.state_dict()["0.weight"])
    assert not any(p.requires_grad for p in ema.module.parameters()) and not ema.module.training


def test_ema_decay_is_validated_and_round_trips_through_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)
    with pytest.raises(ConfigError, match="ema_decay"):
        TrainConfig(ema_decay=-0.1)
    assert TrainConfig().ema_decay == 0.0
    cfg = _with(tiny_config(), ema_decay=0.999)
    save_run_config(cfg, tmp_path / "c.toml")
    assert load_run_config(tmp_path / "c.toml") == cfg


def test_ema_run_ships_the_average_and_keeps_the_raw_weights_beside_it(tmp_path: Path) -> None:
    src = {"count": 4, "val": 2}
    base = tiny_config(max_steps=6, checkpoint_every=3, sample_every=3)
    plain = list(train(base, tmp_path / "plain", sources=tiny_sources(**src)))
    events = list(train(_with(base, ema_decay=0.9), tmp_path / "ema", sources=tiny_sources(**src)))
    assert isinstance(events[-1], Finished)
    assert next(e for e in events if isinstance(e, Started)).ema_decay == 0.9
    validations = [e for e in events if isinstance(e, Validation)]
    assert validations and all(v.ema for v in validations)
    assert not any(e.ema for e in plain if isinstance(e, Validation))

    ckpt = tmp_path / "ema/checkpoints"
    state = load_training_state(ckpt / "step_0000006.pt")
    ema_file = load_weights(ckpt / "step_0000006.safetensors")
    raw_file = load_weights(ckpt / "step_0000006.raw.safetensors")
    assert ema_file.card["ema_decay"] == 0.9 and ema_file.card["weights"] == "ema"
    assert raw_file.card["weights"] == "raw"
    assert_identical(ema_file.model.state_dict(), state["ema_generator"])
    assert_identical(raw_file.model.state_dict(), state["generator"])
    assert_identical(load_weights(ckpt / "last.raw.safetensors").model.state_dict(), state["generator"])
    assert_identical(load_weights(ckpt / "best.safetensors").model.state_dict().keys(), state["ema_generator"].keys())
    weight = "down.0.conv.weight" if "down.0.conv.weight" in state["generator"] else next(iter(state["generator"]))
    assert not torch.equal(state["ema_generator"][weight], state["generator"][weight])
    # Keeping an average never changes what G learns: the raw weights equal the run without EMA.
    plain_state = load_training_state(tmp_path / "plain/checkpoints/step_0000006.pt")
    assert_identical(plain_state["generator"], state["generator"])
    assert "ema_generator" not in plain_state and load_weights(
        tmp_path / "plain/checkpoints/last.safetensors").card["ema_decay"] == 0.0
    assert not (tmp_path / "plain/checkpoints/step_0000006.raw.safetensors").exists()
    # pruning removes a step's raw file with its pair (keep_checkpoints=2 of steps 3, 6 here)
    saved = [e.step for e in events if isinstance(e, CheckpointSaved) and e.reason != "best"]
    assert saved == [3, 6] and (ckpt / "step_0000003.raw.safetensors").exists()


def test_ema_run_resumes_bit_identical(tmp_path: Path) -> None:
    cfg = _with(tiny_config(size=64, depth=6, ngf=4, ndf=4, epochs=2, epochs_decay=2, checkpoint_every=3,
                            sample_every=2, keep_checkpoints=1), ema_decay=0.95)
    events, cut_step, straight, resumed = straight_and_resumed(cfg, tmp_path, {"count": 5, "val": 2, "size": 64}, 5)
    assert isinstance(events[-1], Finished) and cut_step == 3
    assert "ema_generator" in straight
    assert_identical(straight, resumed)
    # pruning (keep 1) removed older raw files with their pairs
    raws = sorted(p.name for p in (tmp_path / "cut/checkpoints").glob("step_*.raw.safetensors"))
    assert raws == [f"step_{straight['step']:07d}.raw.safetensors"]
