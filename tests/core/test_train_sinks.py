"""Event consumers and the distributed environment: metrics.jsonl survives a torn last line and
stays strict JSON; rank/world size come from torchrun's variables; files only on rank 0."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError
from core.train.dist_env import DistEnv
from core.train.events import CanvasPreview, Failed, Step, Validation
from core.train.loop import train
from core.train.sinks import JsonlSink
from tests.core.train_helpers import tiny_config, tiny_sources

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_jsonl_sink_appends_strict_json_and_drops_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"kind": "step", "step": 1}\n{"kind": "step", "st')  # a writer killed mid-line
    sink = JsonlSink(path)
    sink.handle(Step(step=2, epoch=0, losses={"G_GAN": 1.0, "G_L1": float("nan")}, lr=1e-4, data_time=0.1,
                     step_time=0.2, samples_per_s=3.0))
    sink.handle(CanvasPreview(step=2, image=np.zeros((2, 2, 3), np.uint8)))  # images never go to the log
    sink.handle(Validation(step=2, epoch=0, l1=0.5, psnr=20.0, ssim=0.5, is_best=True))
    sink.close()
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line parses, strictly
    assert [r["kind"] for r in records] == ["step", "step", "validation"]
    assert records[1]["losses"] == {"G_GAN": 1.0, "G_L1": None}  # NaN is not JSON: null
    assert "NaN" not in path.read_text()


def test_dist_env_reads_torchrun_variables() -> None:
    assert DistEnv.from_env({}) == DistEnv(0, 1, 0)
    env = DistEnv.from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (env.rank, env.world_size, env.local_rank, env.is_main, env.distributed) == (3, 4, 1, False, True)
    with pytest.raises(ConfigError):
        DistEnv.from_env({"RANK": "4", "WORLD_SIZE": "4"})
    with pytest.raises(ConfigError):
        DistEnv.from_env({"RANK": "x"})


def test_world_size_without_torchrun_rendezvous_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ConfigError, match="torchrun"):
        list(train(tiny_config(max_steps=1), tmp_path / "run", sources=tiny_sources()))
    assert not (tmp_path / "run").exists()


def test_failed_event_is_the_last_metrics_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    events = list(train(tiny_config(max_steps=5), run, sources=tiny_sources(), inject_nan_at_step=1))
    assert isinstance(events[-1], Failed) and events[-1].last_checkpoint is None  # nothing saved yet
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["kind"] == "failed" and last["step"] == 1 and last["last_checkpoint"] is None
    assert not (run / "checkpoints").exists()
