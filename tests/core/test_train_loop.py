"""The training loop end to end on tiny real networks: losses, learning, schedule, events, files,
pause / resume / stop, NaN handling, warnings and user errors."""

from __future__ import annotations

import json
import math
import queue
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from core.weights.checkpoints import load_training_state, load_weights
from core.config import RunConfig
from core.data.base import InMemoryPairs
from core.models.encoding import encode_labels, photo_to_tensor
from core.errors import BadFileError, CheckpointError, ConfigError, UserError
from core.models import build_generator
from core.train.control import TrainingControl
from core.train.events import (CanvasPreview, CheckpointSaved, Event, Failed, Finished, Paused, Resumed, Sample,
                               Started, Step, Validation, Warning_)
from core.train.loop import INJECT_NAN_ENV, CollapseMonitor, resume_config, train
from core.train.state import lr_for_epoch, lr_multiplier
from tests.core.train_helpers import of, tiny_config, tiny_pairs, tiny_sources

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run_all(cfg: RunConfig, run_dir: Path, **kwargs) -> list[Event]:
    kwargs.setdefault("sources", tiny_sources())
    return list(train(cfg, run_dir, **kwargs))


def test_one_step_gives_finite_losses_and_a_final_checkpoint(tmp_path: Path) -> None:
    events = run_all(tiny_config(max_steps=1), tmp_path / "run")
    assert isinstance(events[0], Started) and events[0].total_steps == 1 and events[0].device == "cpu"
    (step,) = of(events, Step)
    assert set(step.losses) == {"G_GAN", "G_L1", "D_real", "D_fake"}
    assert all(math.isfinite(v) and v > 0 for v in step.losses.values())
    assert step.step == 1 and step.epoch == 0 and step.samples_per_s > 0 and step.step_time > 0
    assert events[-1] == Finished(step=1, epoch=0, reason="max_steps")
    saved = of(events, CheckpointSaved)
    assert [c.reason for c in saved] == ["final"]
    state = load_training_state(saved[0].state_path)
    assert state["step"] == 1 and state["consumed"] == 2


def _l1_of_generator(model: torch.nn.Module, pairs: list) -> float:
    model.eval()
    with torch.no_grad():
        x = encode_labels(torch.from_numpy(np.stack([p[0] for p in pairs])), "onehot")
        y = photo_to_tensor(np.stack([p[1] for p in pairs]))
        return float((model(x) - y).abs().mean())


def test_two_hundred_steps_on_four_pairs_lower_l1_clearly(tmp_path: Path) -> None:
    cfg = tiny_config(batch_size=1, epochs=50, epochs_decay=0, max_steps=200, checkpoint_every=200,
                      sample_every=200, flip=False, lr=1e-3)
    pairs = tiny_pairs(4)
    torch.manual_seed(123)
    before = _l1_of_generator(build_generator(cfg.generator), pairs)
    events = run_all(cfg, tmp_path / "run", sources=(InMemoryPairs(pairs), None))
    assert isinstance(events[-1], Finished) and events[-1].step == 200
    after = _l1_of_generator(load_weights(tmp_path / "run/checkpoints/last.safetensors").model, pairs)
    assert after < 0.5 * before, (before, after)
    g_l1 = [e.losses["G_L1"] for e in of(events, Step)]
    assert np.mean(g_l1[-20:]) < 0.5 * np.mean(g_l1[:20])


def test_learning_rate_is_constant_then_decays_linearly_per_epoch(tmp_path: Path) -> None:
    # 4 pairs, batch 2: 2 steps per epoch; 2 constant epochs, then 2 decaying ones.
    events = run_all(tiny_config(epochs=2, epochs_decay=2, checkpoint_every=100), tmp_path / "run")
    lrs = [(e.epoch, e.lr) for e in of(events, Step)]
    base = 2e-4
    assert lrs == [(0, base), (0, base), (1, base), (1, base),
                   (2, base * (1 - 1 / 3)), (2, base * (1 - 1 / 3)), (3, base * (1 - 2 / 3)), (3, base * (1 - 2 / 3))]
    assert events[-1] == Finished(step=8, epoch=3, reason="completed")
    # the reference rule, at its boundaries
    assert lr_multiplier(99, 100, 100) == 1.0
    assert lr_multiplier(100, 100, 100) == pytest.approx(1 - 1 / 101)
    assert lr_multiplier(199, 100, 100) == pytest.approx(1 / 101)
    assert lr_for_epoch(2e-4, 0, 0, 4) == pytest.approx(2e-4 * 4 / 5)


def test_run_folder_holds_exactly_the_documented_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    events = run_all(tiny_config(epochs=3, epochs_decay=2, checkpoint_every=2, sample_every=3, keep_checkpoints=2),
                     run, sources=tiny_sources(val=2))
    files = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
    tensorboard = [f for f in files if f.startswith("tensorboard/")]
    assert tensorboard and all("tfevents" in f for f in tensorboard)
    assert [f for f in files if not f.startswith("tensorboard/")] == [
        "checkpoints/best.safetensors",
        "checkpoints/last.pt", "checkpoints/last.safetensors",
        "checkpoints/step_0000008.pt", "checkpoints/step_0000008.safetensors",
        "checkpoints/step_0000010.pt", "checkpoints/step_0000010.safetensors",
        "config.toml", "metrics.jsonl",
        "samples/step_0000003.png", "samples/step_0000006.png", "samples/step_0000009.png",
    ]
    # last.* is the newest step checkpoint; the sample PNG is the grid the event carried
    assert (run / "checkpoints/last.pt").read_bytes() == (run / "checkpoints/step_0000010.pt").read_bytes()
    sample = of(events, Sample)[0]
    from PIL import Image
    assert np.array_equal(np.asarray(Image.open(sample.path)), sample.image)
    assert sample.image.shape == (2 * 32, 3 * 32, 3)  # batch 2 rows; input | output | target


def test_metrics_jsonl_has_one_parseable_event_per_line_without_images(tmp_path: Path) -> None:
    run = tmp_path / "run"
    events = run_all(tiny_config(epochs=2, epochs_decay=0), run, sources=tiny_sources(val=2))
    lines = (run / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["kind"] for r in records] == [e.kind for e in events]
    steps = [r for r in records if r["kind"] == "step"]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]
    assert set(steps[0]["losses"]) == {"G_GAN", "G_L1", "D_real", "D_fake"}
    assert all("image" not in r and isinstance(r["time"], float) for r in records)
    validation = [r for r in records if r["kind"] == "validation"]
    assert len(validation) == 2 and validation[0]["is_best"] is True


def test_validation_reports_metrics_and_keeps_the_best_generator(tmp_path: Path) -> None:
    run = tmp_path / "run"
    events = run_all(tiny_config(epochs=3, epochs_decay=0), run, sources=tiny_sources(val=2))
    vals = of(events, Validation)
    assert [v.epoch for v in vals] == [0, 1, 2]
    assert all(0 < v.l1 < 2 and 0 < v.psnr < 100 and -1 < v.ssim <= 1 for v in vals)
    best = min(vals, key=lambda v: v.l1)
    assert best.is_best and vals[0].is_best
    loaded = load_weights(run / "checkpoints/best.safetensors")
    assert loaded.card["step"] == best.step


def test_pause_blocks_steps_resume_continues_and_stop_saves_a_checkpoint(tmp_path: Path) -> None:
    control = TrainingControl()
    control.pause()  # paused before the first step
    received: queue.Queue[Event] = queue.Queue()
    cfg = tiny_config(epochs=10_000, epochs_decay=0, checkpoint_every=10_000)

    def worker() -> None:
        for event in train(cfg, tmp_path / "run", control, sources=tiny_sources()):
            received.put(event)

    thread = threading.Thread(target=worker)
    thread.start()

    def wait_for(kind: type, timeout: float = 60) -> list[Event]:
        seen = []
        while True:
            event = received.get(timeout=timeout)
            seen.append(event)
            if isinstance(event, kind):
                return seen

    try:
        assert any(isinstance(e, Started) for e in wait_for(Paused))
        thread.join(0.5)  # give a (wrong) loop time to step on
        assert received.empty() and thread.is_alive()
        control.resume()
        assert isinstance(wait_for(Resumed)[-1], Resumed)
        steps = [e for e in wait_for(Step) + wait_for(Step) + wait_for(Step) if isinstance(e, Step)]
        assert [s.step for s in steps] == [1, 2, 3]
    finally:
        control.stop()
        thread.join(60)
    assert not thread.is_alive()
    rest = []
    while not received.empty():
        rest.append(received.get())
    finished = rest[-1]
    assert isinstance(finished, Finished) and finished.reason == "stopped" and finished.step >= 3
    saved = rest[-2]
    assert isinstance(saved, CheckpointSaved) and saved.reason == "stop" and saved.step == finished.step
    assert load_training_state(saved.state_path)["step"] == finished.step


def test_stop_while_paused_saves_and_finishes(tmp_path: Path) -> None:
    control = TrainingControl()
    events: list[Event] = []
    for event in train(tiny_config(epochs=1000), tmp_path / "run", control, sources=tiny_sources()):
        events.append(event)
        if isinstance(event, Step) and event.step == 2:
            control.pause()
        if isinstance(event, Paused):
            control.stop()  # from another thread in real use; the loop must not stay blocked
    assert [e.kind for e in events[-3:]] == ["paused", "checkpoint", "finished"]
    assert events[-1] == Finished(step=2, epoch=0, reason="stopped")


@pytest.mark.parametrize("use_env", [False, True])
def test_nan_loss_fails_naming_the_step_and_keeps_the_last_good_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_env: bool) -> None:
    run = tmp_path / "run"
    kwargs = {}
    if use_env:
        monkeypatch.setenv(INJECT_NAN_ENV, "6")
    else:
        kwargs["inject_nan_at_step"] = 6
    events = run_all(tiny_config(epochs=100, checkpoint_every=4), run, **kwargs)
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.step == 6 and "step 6" in failed.message
    assert failed.last_checkpoint == str(run / "checkpoints/last.safetensors")
    assert [e.step for e in of(events, Step)] == [1, 2, 3, 4, 5]
    assert not (run / "checkpoints/step_0000006.pt").exists()
    state = load_training_state(run / "checkpoints/last.pt")
    assert state["step"] == 4
    assert all(torch.isfinite(t).all() for t in state["generator"].values() if t.is_floating_point())
    loaded = load_weights(failed.last_checkpoint)
    assert loaded.card["step"] == 4
    assert json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["kind"] == "failed"


def test_canvas_preview_renders_any_size_with_the_training_weights(tmp_path: Path) -> None:
    control = TrainingControl()
    ids = np.full((21, 27), 7, np.uint8)  # not a multiple of the U-Net's 16
    ids[:8] = 23
    control.set_preview_labels(ids)
    events = run_all(tiny_config(max_steps=8, sample_every=4), tmp_path / "run", control=control)
    previews = of(events, CanvasPreview)
    assert [p.step for p in previews] == [4, 8]
    assert previews[0].image.shape == (21, 27, 3) and previews[0].image.dtype == np.uint8
    assert not np.array_equal(previews[0].image, previews[1].image)  # weights changed in between
    assert not np.array_equal(previews[0].image[0, 0], previews[0].image[-1, 0])  # sky vs road differ


class _OneBadFile(InMemoryPairs):
    def __getitem__(self, index: int):
        if index == 1:
            raise BadFileError(Path("/data/train/broken.jpg"), "not a JPEG")
        return super().__getitem__(index)


def test_a_bad_file_is_skipped_with_one_warning(tmp_path: Path) -> None:
    source = _OneBadFile(tiny_pairs(4))
    events = run_all(tiny_config(epochs=3, epochs_decay=0), tmp_path / "run", sources=(source, None))
    warnings = of(events, Warning_)
    assert len(warnings) == 1 and "broken.jpg" in warnings[0].message and "not a JPEG" in warnings[0].message
    assert events[-1].kind == "finished" and len(of(events, Step)) == 6


def test_cuda_only_options_on_cpu_are_ignored_with_a_warning(tmp_path: Path) -> None:
    cfg = tiny_config(max_steps=1)
    cfg = cfg.replace(train=cfg.train.__class__(**{**cfg.train.__dict__, "bf16": True, "channels_last": True,
                                                  "compile": True}))
    events = run_all(cfg, tmp_path / "run")
    messages = [w.message for w in of(events, Warning_)]
    assert any("bf16" in m for m in messages) and any("compile" in m for m in messages)
    # channels_last is used on the CPU anyway (faster there): nothing to warn about
    assert not any("channels_last" in m for m in messages)
    assert events[-1].kind == "finished"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_an_unavailable_device_is_a_clear_config_error(tmp_path: Path) -> None:
    cfg = tiny_config()
    cfg = cfg.replace(train=cfg.train.__class__(**{**cfg.train.__dict__, "device": "cuda"}))
    with pytest.raises(ConfigError, match="cuda"):
        run_all(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "config.toml").exists()


def test_user_errors_before_the_first_step(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_all(tiny_config(max_steps=1), run)
    with pytest.raises(UserError, match="--resume"):
        run_all(tiny_config(max_steps=1), run)  # a new run over an existing one
    with pytest.raises(UserError, match="no pairs"):
        run_all(tiny_config(), tmp_path / "empty", sources=(InMemoryPairs([]), None))
    with pytest.raises(UserError, match="not a Road Studio run folder"):
        run_all(None, tmp_path / "nothing", resume=True)  # type: ignore[arg-type]  # resume reads the run's config
    (run / "checkpoints/last.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="last.pt"):
        run_all(None, run, resume=True)  # type: ignore[arg-type]  # resume reads the run's config


def test_resume_may_change_only_runtime_settings() -> None:
    saved = tiny_config()
    longer = saved.replace(train=saved.train.__class__(**{**saved.train.__dict__, "max_steps": 99}))
    assert resume_config(saved, longer) is longer
    other = saved.replace(train=saved.train.__class__(**{**saved.train.__dict__, "lr": 1e-3}))
    with pytest.raises(ConfigError, match="train.lr"):
        resume_config(saved, other)


def test_collapse_monitor_warns_once_per_collapse() -> None:
    monitor = CollapseMonitor(threshold=0.01, patience=3)
    results = [monitor.update(v) for v in [0.001, 0.001, 0.001, 0.001, 0.5, 0.001, 0.001, 0.001]]
    warned = [i for i, r in enumerate(results) if r]
    assert warned == [2, 7] and "collapse" in (results[2] or "")
