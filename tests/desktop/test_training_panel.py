"""The training panel driving the real engine (core.train.loop) with a tiny U-Net on tiny pairs.

Every interaction goes through the real buttons (qtbot.mouseClick); the run folder, checkpoints
and metrics are real files the engine wrote.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.weights.checkpoints import load_weights
from core.config import load_run_config
from core.data.base import InMemoryPairs
from core.train.events import CanvasPreview, CheckpointSaved, Failed, Finished, Paused, Resumed, Started, Step
from desktop.training import TrainingPanel

pytest.importorskip("core.train.loop")

WAIT_MS = 120_000  # only turns a hang into a failure: the machine may be shared or pinned to one core
# Runs the tests stop themselves: 100,000 epochs of 4 steps cannot end by themselves however fast
# the machine is, so a Stop (or a closing window) always lands inside the run, and a test that
# waits for a later event never finds the run already finished.
ENDLESS_EPOCHS = 100_000


def tiny_pairs(n: int, seed: int, h: int = 32, w: int = 32) -> InMemoryPairs:
    """Street-like pairs: sky over road with a sidewalk strip and a car, plus photo noise."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n):
        ids = np.full((h, w), 7, np.uint8)  # road
        ids[: h // 2] = 23  # sky
        ids[:, : w // 4] = 8  # sidewalk
        x = int(rng.integers(w // 4, w - 8))
        ids[h // 2 + 2: h // 2 + 8, x: x + 8] = 26  # car
        photo = np.zeros((h, w, 3), np.uint8)
        for label, colour in ((7, (128, 64, 128)), (23, (70, 130, 180)), (8, (244, 35, 232)), (26, (0, 0, 142))):
            photo[ids == label] = colour
        photo = np.clip(photo + rng.integers(-15, 15, photo.shape), 0, 255).astype(np.uint8)
        pairs.append((ids, photo))
    return InMemoryPairs(pairs)


class Recorder:
    def __init__(self, panel: TrainingPanel) -> None:
        self.events: list[object] = []
        self.failures: list[str] = []
        panel.event_emitted.connect(self.events.append)
        panel.failed.connect(self.failures.append)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def steps(self) -> list[int]:
        return [e.step for e in self.of(Step)]


def make_panel(qtbot, runs_dir: Path, *, epochs: int = ENDLESS_EPOCHS, sample_every: int = 1000,
               checkpoint_every: int = 1000) -> TrainingPanel:
    panel = TrainingPanel(runs_dir)
    qtbot.addWidget(panel)
    panel.set_test_sources((tiny_pairs(8, 0), tiny_pairs(2, 1)))
    f = panel.form
    f.depth_spin.setValue(3)
    f.ngf_spin.setValue(4)
    f.ndf_spin.setValue(4)
    f.load_h.setValue(36)
    f.load_w.setValue(36)
    f.crop_h.setValue(32)
    f.crop_w.setValue(32)
    f.batch_spin.setValue(2)
    f.epochs_spin.setValue(epochs)
    f.decay_spin.setValue(0)
    f.sample_spin.setValue(sample_every)
    f.checkpoint_spin.setValue(checkpoint_every)
    f.device_combo.setCurrentIndex(f.device_combo.findData("cpu"))
    f.set_run_name("tiny")
    panel.resize(1000, 800)
    panel.show()
    return panel


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def wait_steps(qtbot, rec: Recorder, at_least: int) -> None:
    qtbot.waitUntil(lambda: len(rec.of(Step)) >= at_least or bool(rec.failures), timeout=WAIT_MS)
    assert not rec.failures, rec.failures


def wait_idle(qtbot, panel: TrainingPanel) -> None:
    qtbot.waitUntil(lambda: not panel.is_running, timeout=WAIT_MS)


@pytest.mark.slow  # two training runs; ~12 s on a quiet 2-core machine, more when it is shared
def test_start_pause_resume_stop_then_a_new_panel_resumes(qtbot, tmp_path):
    panel = make_panel(qtbot, tmp_path)
    rec = Recorder(panel)
    assert panel.start_button.isEnabled(), panel.status_label.text()
    click(qtbot, panel.start_button)
    assert panel.is_running and not panel.start_button.isEnabled()
    wait_steps(qtbot, rec, 3)
    started = rec.of(Started)[0]
    assert started.start_step == 0 and started.device == "cpu"
    assert panel.monitor.last_step >= 3 and panel.monitor.progress.value() >= 3
    assert panel.monitor.l1_chart.series("G_L1").__len__() >= 3

    # Pause: the engine confirms at a step boundary, then the counter stops.
    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: bool(rec.of(Paused)), timeout=WAIT_MS)
    assert panel.pause_button.text() == "Resume"
    paused_at = len(rec.of(Step))
    qtbot.wait(600)
    assert len(rec.of(Step)) == paused_at
    assert "Paused" in panel.monitor.state_label.text()

    # Resume: it advances again.
    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: len(rec.of(Step)) > paused_at + 2, timeout=WAIT_MS)
    assert rec.of(Resumed)

    # Stop: a checkpoint is written first, then the run finishes as "stopped".
    click(qtbot, panel.stop_button)
    wait_idle(qtbot, panel)
    finished = rec.of(Finished)[-1]
    assert finished.reason == "stopped"
    saved = [e for e in rec.of(CheckpointSaved) if e.reason == "stop"]
    assert saved and saved[-1].step == finished.step
    loaded = load_weights(saved[-1].weights_path)
    assert loaded.config.depth == 3 and loaded.card["step"] == finished.step
    run_dir = tmp_path / "tiny"
    assert load_run_config(run_dir / "config.toml").generator.ngf == 4  # the engine wrote the config
    assert panel.form.name_edit.text() != "tiny"  # a fresh name is suggested for the next run
    stopped_step = finished.step

    # The checkpoints tab lists the stop checkpoint, with the CLI equivalents beside it.
    panel.shutdown()
    assert f"--resume {run_dir}" in panel.cli_resume.command()
    assert f"--config {run_dir / 'config.toml'}" in panel.cli_start.command()
    assert panel.checkpoints.tensorboard.command() == f"tensorboard --logdir {run_dir / 'tensorboard'}"

    # "App restart": a fresh panel finds the run in History and resumes it at the next step.
    panel2 = make_panel(qtbot, tmp_path)
    rec2 = Recorder(panel2)
    qtbot.waitUntil(lambda: any(r.path == run_dir for r in panel2.history.runs()), timeout=WAIT_MS)
    assert panel2.history.select_run(run_dir)
    click(qtbot, panel2.history.resume_button)
    wait_steps(qtbot, rec2, 2)
    assert rec2.of(Started)[0].start_step == stopped_step
    assert rec2.steps()[0] == stopped_step + 1
    # The reopened curve continues the old one instead of starting over.
    xs = panel2.monitor.l1_chart.series("G_L1").x
    assert xs[0] == 1 and np.all(np.diff(xs) > 0)
    click(qtbot, panel2.stop_button)
    wait_idle(qtbot, panel2)
    assert rec2.of(Finished)[-1].reason == "stopped"


def test_non_finite_loss_shows_the_warning_and_stops(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("ROADSTUDIO_INJECT_NAN_AT_STEP", "4")
    panel = make_panel(qtbot, tmp_path, checkpoint_every=2)
    rec = Recorder(panel)
    click(qtbot, panel.start_button)
    wait_idle(qtbot, panel)
    failed = rec.of(Failed)
    assert failed and failed[0].step == 4
    assert rec.failures and "non-finite" in rec.failures[0]
    assert panel.monitor.banner.isVisible()
    assert "non-finite" in panel.monitor.banner.label.text()
    assert "Failed" in panel.monitor.state_label.text()
    assert "non-finite" in panel.status_label.text()
    assert max(rec.steps()) == 3  # no step after the bad one
    load_weights(failed[0].last_checkpoint)  # the last good checkpoint is kept and loads


def test_closing_during_a_run_asks_then_leaves_a_loadable_checkpoint(qtbot, tmp_path, monkeypatch):
    panel = make_panel(qtbot, tmp_path)
    rec = Recorder(panel)
    click(qtbot, panel.start_button)
    wait_steps(qtbot, rec, 2)
    answers = iter([False, True])
    asked: list[bool] = []

    def answer() -> bool:
        asked.append(True)
        return next(answers)

    monkeypatch.setattr(panel, "_confirm_stop_on_close", answer)
    assert panel.request_close() is False  # the user said no: keep training
    assert panel.is_running
    assert panel.request_close() is True
    assert len(asked) == 2
    assert not panel.is_running  # request_close joined the worker thread
    last = tmp_path / "tiny" / "checkpoints" / "last.safetensors"
    weights = load_weights(last)
    assert weights.card["step"] >= 2
    assert rec.of(Finished)[-1].reason == "stopped"


def test_canvas_painting_is_rendered_with_the_training_weights(qtbot, tmp_path):
    panel = make_panel(qtbot, tmp_path, sample_every=2)
    rec = Recorder(panel)
    painting = np.full((24, 40), 7, np.uint8)  # any canvas size: the engine pads and crops back
    painting[:10] = 23
    calls: list[int] = []

    def provider() -> np.ndarray:
        calls.append(1)
        return painting

    panel.set_canvas_labels_provider(provider)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: len(rec.of(CanvasPreview)) >= 2 or bool(rec.failures), timeout=WAIT_MS)
    preview = rec.of(CanvasPreview)[-1]
    assert preview.image.shape == (24, 40, 3) and preview.image.dtype == np.uint8
    shown = panel.monitor.canvas_view.image()
    assert shown is not None and (shown.width(), shown.height()) == (40, 24)
    assert panel.monitor.sample_view.image() is not None  # the input | output | target grid
    assert len(calls) >= 2  # read at start and again per sample interval
    # A painting pushed by the main window (stroke_finished) wins from then on.
    panel.set_canvas_labels(np.zeros((16, 16), np.uint8))
    panel.set_canvas_labels_provider(None)
    qtbot.waitUntil(lambda: rec.of(CanvasPreview)[-1].image.shape == (16, 16, 3), timeout=WAIT_MS)
    click(qtbot, panel.stop_button)
    wait_idle(qtbot, panel)


def test_use_in_canvas_emits_the_checkpoint_path(qtbot, tmp_path):
    panel = make_panel(qtbot, tmp_path, checkpoint_every=3)
    rec = Recorder(panel)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: bool(rec.of(CheckpointSaved)) or bool(rec.failures), timeout=WAIT_MS)
    click(qtbot, panel.stop_button)
    wait_idle(qtbot, panel)
    table = panel.checkpoints.table
    qtbot.waitUntil(lambda: table.rowCount() >= 2, timeout=WAIT_MS)
    panel.tabs.setCurrentIndex(2)
    items = [table.item(r, 0) for r in range(table.rowCount())]
    labels = [item.text() if item is not None else "" for item in items]
    assert "last" in labels and any(label.startswith("step") for label in labels)
    assert not panel.checkpoints.use_button.isEnabled()  # nothing selected yet
    row = labels.index("last")
    item = items[row]
    assert item is not None
    rect = table.visualItemRect(item)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(panel.use_in_canvas_requested, timeout=5000) as blocker:
        click(qtbot, panel.checkpoints.use_button)
    path = Path(blocker.args[0])
    assert path.suffix == ".safetensors" and path.parent == tmp_path / "tiny" / "checkpoints"
    assert load_weights(path).config.ngf == 4


def test_cli_and_panel_take_turns_on_the_same_run(qtbot, tmp_path, capsys):
    """Headless parity: a run started by roadstudio-cli is reopened and resumed in the panel, and
    the commands the panel shows continue it (or repeat its settings) from the CLI."""
    from core.cli import main as cli_main

    cli_dir = tmp_path / "from-cli"
    # Endless epochs: the panel's resume below goes on to them and must still be running at its Stop.
    code = cli_main(["train", "--data", "synthetic", "--synthetic-count", "8", "--depth", "3", "--ngf", "4",
                     "--ndf", "4", "--crop-size", "32", "--batch-size", "2", "--max-steps", "6",
                     "--epochs", str(ENDLESS_EPOCHS), "--epochs-decay", "0",
                     "--sample-every", "3", "--checkpoint-every", "3", "--device", "cpu", "--run-dir", str(cli_dir)])
    assert code == 0, capsys.readouterr().err

    panel = make_panel(qtbot, tmp_path)
    panel.set_test_sources(None)  # the run's own data (synthetic streets), as the CLI used
    rec = Recorder(panel)
    click(qtbot, panel.history.refresh_button)
    qtbot.waitUntil(lambda: panel.history.select_run(cli_dir), timeout=WAIT_MS)
    click(qtbot, panel.history.open_button)
    qtbot.waitUntil(lambda: len(panel.monitor.l1_chart.series("G_L1")) == 6, timeout=WAIT_MS)
    assert "Finished" in panel.monitor.state_label.text()
    assert panel.monitor.sample_view.image() is not None  # samples/step_0000006.png
    qtbot.waitUntil(lambda: panel.checkpoints.table.rowCount() >= 1, timeout=WAIT_MS)
    assert str(cli_dir) in panel.run_folder_label.text()

    # Resume it in the panel: continues at step 7 (a finished max_steps run goes on to its epochs).
    click(qtbot, panel.history.resume_button)
    wait_steps(qtbot, rec, 2)
    assert rec.of(Started)[0].start_step == 6 and rec.steps()[0] == 7
    click(qtbot, panel.stop_button)
    wait_idle(qtbot, panel)
    stopped = rec.of(Finished)[-1].step

    # The commands the panel shows work as they are (plus a step limit to keep the test short).
    resume_cmd = shlex.split(panel.cli_resume.command())
    assert resume_cmd[:2] == ["roadstudio-cli", "train"]
    assert cli_main(resume_cmd[1:] + ["--max-steps", str(stopped + 2)]) == 0, capsys.readouterr().err
    metrics = [json.loads(line) for line in (cli_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [m["step"] for m in metrics if m["kind"] == "step"]
    assert steps[-1] == stopped + 2 and steps[-3] == stopped  # the CLI continued where the panel stopped
    start_cmd = shlex.split(panel.cli_start.command())
    assert cli_main(start_cmd[1:] + ["--max-steps", "1"]) == 0, capsys.readouterr().err
    fresh = Path(start_cmd[start_cmd.index("--run-dir") + 1])
    assert load_run_config(fresh / "config.toml").generator == load_run_config(cli_dir / "config.toml").generator


def test_a_folder_that_is_not_a_dataset_gets_a_message_and_no_run(qtbot, tmp_path):
    notes = tmp_path / "my notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("buy milk\n")
    runs = tmp_path / "runs"
    panel = make_panel(qtbot, runs)
    panel.set_test_sources(None)  # the real dataset path: the engine would open the folder
    rec = Recorder(panel)
    panel.form.folder_edit.setText(str(notes))
    click(qtbot, panel.form.folder_radio)
    qtbot.waitUntil(lambda: not panel.form.probe_pending, timeout=WAIT_MS)
    assert not panel.start_button.isEnabled()
    message = panel.form.check_label.text()
    assert str(notes) in message or "not" in message.lower()
    assert panel.status_label.text()  # the reason is next to Start
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)  # disabled: nothing happens
    assert not panel.is_running and not rec.events
    assert not (runs / "tiny").exists()
