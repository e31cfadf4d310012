"""The training panel inside the main window: "Use in canvas" swaps the canvas preview's model,
the canvas painting is what the training preview renders, and closing the window during a run
asks, then leaves a loadable checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.weights.checkpoints import load_weights
from core.train.events import CanvasPreview, Finished, Step
from tests.desktop.app_helpers import scene_ids
from tests.desktop.test_training_panel import ENDLESS_EPOCHS, WAIT_MS, Recorder, click, tiny_pairs

pytest.importorskip("core.train.loop")


def tiny_settings(panel, *, sample_every: int = 1000, checkpoint_every: int = 1000) -> None:
    panel.set_test_sources((tiny_pairs(8, 0), tiny_pairs(2, 1)))
    f = panel.form
    for spin, value in ((f.depth_spin, 3), (f.ngf_spin, 4), (f.ndf_spin, 4), (f.load_h, 36), (f.load_w, 36),
                        (f.crop_h, 32), (f.crop_w, 32), (f.batch_spin, 2), (f.epochs_spin, ENDLESS_EPOCHS),
                        (f.decay_spin, 0), (f.sample_spin, sample_every), (f.checkpoint_spin, checkpoint_every)):
        spin.setValue(value)
    f.device_combo.setCurrentIndex(f.device_combo.findData("cpu"))
    f.set_run_name("in-window")


def test_use_in_canvas_loads_the_checkpoint_into_the_canvas_preview(make_window, qtbot):
    window = make_window()
    panel = window.training_panel
    assert panel is not None, "the main window has no training panel"
    window.resize(1200, 900)
    window.show()
    window.training_dock.show()
    painting = scene_ids()
    window.session.load_ids(painting, None)
    tiny_settings(panel, sample_every=2, checkpoint_every=3)
    rec = Recorder(panel)
    click(qtbot, panel.start_button)
    # The window's painting is what the training preview renders (same size as the document).
    qtbot.waitUntil(lambda: bool(rec.of(CanvasPreview)) or bool(rec.failures), timeout=WAIT_MS)
    assert not rec.failures, rec.failures
    assert rec.of(CanvasPreview)[0].image.shape == (*painting.shape, 3)
    qtbot.waitUntil(lambda: len(rec.of(Step)) >= 3, timeout=WAIT_MS)
    click(qtbot, panel.stop_button)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=WAIT_MS)

    table = panel.checkpoints.table
    qtbot.waitUntil(lambda: table.rowCount() >= 1, timeout=WAIT_MS)
    panel.tabs.setCurrentIndex(2)
    rect = table.visualItemRect(table.item(0, 0))  # newest first
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    chosen = panel.checkpoints.selected_path()
    assert chosen is not None
    with qtbot.waitSignal(window.preview.model_loaded, timeout=WAIT_MS) as loaded:
        click(qtbot, panel.checkpoints.use_button)
    info = loaded.args[0]
    assert Path(info.path) == chosen
    assert info.config.ngf == 4 and info.config.depth == 3
    assert window.preview.model is not None and Path(window.preview.model.path) == chosen


def test_closing_the_window_during_a_run_asks_then_saves_a_checkpoint(make_window, qtbot, monkeypatch):
    window = make_window()
    panel = window.training_panel
    window.show()
    tiny_settings(panel)
    rec = Recorder(panel)
    asked: list[bool] = []
    def confirm_stop_on_close() -> bool:
        asked.append(True)
        return True

    monkeypatch.setattr(panel, "_confirm_stop_on_close", confirm_stop_on_close)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: len(rec.of(Step)) >= 2 or bool(rec.failures), timeout=WAIT_MS)
    window.close()
    assert asked == [True]
    assert not panel.is_running
    assert rec.of(Finished)[-1].reason == "stopped"
    run_dir = panel.runs_dir() / "in-window"
    weights = load_weights(run_dir / "checkpoints" / "last.safetensors")
    assert weights.card["step"] == rec.of(Finished)[-1].step
    assert np.isfinite(next(iter(weights.model.state_dict().values())).float().numpy()).all()
