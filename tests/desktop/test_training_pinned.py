"""Pinned paintings in the panel: pin the canvas painting to a running run with the real button;
film-strip frames arrive at each sample step, equal the engine's render; Stop, reopen the run in
a new panel: the strip comes back from pinned/, and Export strip… writes it with provenance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from core.render import provenance
from core.io.imageio import read_rgb
from core.train.pins import PinnedSample, list_renders
from tests.desktop.test_training_panel import WAIT_MS, Recorder, click, make_panel, wait_idle

pytest.importorskip("core.train.loop")


@pytest.mark.slow  # a training run; seconds on a quiet machine
def test_pin_the_painting_watch_its_strip_and_reopen_it(qtbot, tmp_path, monkeypatch):
    panel = make_panel(qtbot, tmp_path, sample_every=2)
    rec = Recorder(panel)
    painting = np.full((24, 40), 7, np.uint8)
    painting[:10] = 23
    panel.set_canvas_labels_provider(lambda: painting)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: panel.pinned.pin_button.isEnabled(), timeout=WAIT_MS)  # the run is shown
    with qtbot.waitSignal(panel.pinned.pinned, timeout=WAIT_MS) as pinned:
        click(qtbot, panel.pinned.pin_button)
    name = Path(pinned.args[0]).stem
    qtbot.waitUntil(lambda: len([e for e in rec.of(PinnedSample) if e.name == name]) >= 2 or bool(rec.failures),
                    timeout=WAIT_MS)
    assert not rec.failures, rec.failures
    frames = [e for e in rec.of(PinnedSample) if e.name == name]
    assert frames[0].image.shape == (24, 40, 3)
    strip = panel.pinned.strips[name]
    assert {e.step for e in frames} <= set(strip.steps())
    click(qtbot, panel.stop_button)
    wait_idle(qtbot, panel)
    run_dir = panel.pinned._run
    assert run_dir is not None
    on_disk = list_renders(run_dir)[name]
    np.testing.assert_array_equal(read_rgb(on_disk[0][1]), frames[0].image)  # the sink wrote the event's image

    again = make_panel(qtbot, tmp_path)
    with qtbot.waitSignal(again.pinned.strips_loaded, timeout=WAIT_MS):
        again.open_run(run_dir)
    assert again.pinned.strips[name].steps() == [s for s, _ in on_disk]
    out = tmp_path / "strip.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    with qtbot.waitSignal(again.pinned.exported, timeout=WAIT_MS):
        click(qtbot, again.pinned.export_button)
    shot = read_rgb(out)
    assert shot.shape == (24, 40 * len(on_disk), 3)
    record = provenance.read(out)
    assert record.get("kind") == "pinned_strip" and record.get("pin") == name
    np.testing.assert_array_equal(record.labels, painting)
