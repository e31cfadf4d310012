"""The app under file-system faults: a full disk for the autosave, exports and saves, and for a
training run in the panel; a run folder deleted or made read-only under the panel's run. Real
widgets and real file systems where the machine allows it (tests/fault_helpers.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from core.weights.checkpoints import load_training_state
from core.train.events import CheckpointSaved, Failed, Started
from desktop import settings
from desktop.scene import files
from tests.desktop.app_helpers import scene_ids
from tests.desktop.test_training_panel import WAIT_MS, Recorder, click, make_panel, wait_idle, wait_steps
from tests.fault_helpers import SmallDisk, delete_folder, make_read_only

pytest.importorskip("core.train.loop")


def _recovered(store: files.RecoveryStore) -> files.Recovered:
    recovered = store.load()
    assert recovered is not None, "no recovery copy"
    return recovered


def _stroke(window, mouse_for, row: int) -> None:
    mouse_for(window.canvas).drag([(20, row), (120, row), (200, row)])


def test_autosave_on_a_full_disk_says_so_keeps_the_earlier_copy_and_recovers(
        disk: SmallDisk, monkeypatch, make_window, qtbot, mouse_for) -> None:
    monkeypatch.setattr(settings, "recovery_dir", lambda: disk.path / "recovery")
    window = make_window()
    window.session.load_ids(scene_ids(), None)
    window.resize(900, 500)
    window.show()
    qtbot.waitExposed(window)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)  # 1 document pixel = 4 widget pixels
    window.canvas.set_current_class(26)  # car: every stroke changes pixels
    session = window.session
    _stroke(window, mouse_for, 40)
    session.autosaver.flush()
    first = np.array(session.document.ids)
    store = files.RecoveryStore(disk.path / "recovery")
    np.testing.assert_array_equal(_recovered(store).ids, first)

    disk.fill()
    _stroke(window, mouse_for, 60)
    session.autosaver.flush()
    qtbot.waitUntil(lambda: session.autosave_problem is not None, timeout=WAIT_MS)
    assert session.autosave_problem == "disk full"
    message = window.statusBar().currentMessage()
    assert message.startswith("Autosave failed (disk full)") and str(disk.path / "recovery") in message
    # The painting and its history are untouched; the recovery copy is the earlier, complete one.
    second = np.array(session.document.ids)
    assert (second != first).any() and session.document.modified
    np.testing.assert_array_equal(_recovered(store).ids, first)
    window.actions_.undo.trigger()
    np.testing.assert_array_equal(session.document.ids, first)
    window.actions_.redo.trigger()

    disk.free()
    _stroke(window, mouse_for, 80)
    session.autosaver.flush()
    qtbot.waitUntil(lambda: session.autosave_problem is None, timeout=WAIT_MS)
    assert window.statusBar().currentMessage() == "Autosave works again"
    np.testing.assert_array_equal(_recovered(store).ids, session.document.ids)


def test_export_and_save_on_a_full_disk_show_a_message_and_keep_the_earlier_files(
        disk: SmallDisk, make_window, qtbot, error_boxes) -> None:
    window = make_window()
    session = window.session
    session.load_ids(scene_ids(), None)
    export, labels = disk.path / "generated.png", disk.path / "scene.png"
    rgb = np.full((32, 64, 3), 90, np.uint8)
    with qtbot.waitSignal(session.saved, timeout=WAIT_MS):
        session.export(export, rgb)
    with qtbot.waitSignal(session.saved, timeout=WAIT_MS):
        session.save_to(labels, "ids")
    before = {p: p.read_bytes() for p in (export, labels)}

    disk.fill()
    with qtbot.waitSignal(session.save_failed, timeout=WAIT_MS):
        session.export(export, np.zeros((32, 64, 3), np.uint8))
    session.document.replace_all(np.full((32, 64), 7, np.uint8), undoable=True)
    with qtbot.waitSignal(session.save_failed, timeout=WAIT_MS):
        session.save_to(labels, "ids")
    assert [title for title, _ in error_boxes] == ["Cannot save", "Cannot save"]
    for (_, text), path in zip(error_boxes, (export, labels), strict=True):
        assert str(path) in text and "disk full" in text and "Traceback" not in text
    assert {p: p.read_bytes() for p in (export, labels)} == before  # the earlier files, whole
    assert session.document.modified  # the failed save did not mark the scene saved
    assert not [p for p in disk.path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("fault", ["deleted", "read-only"])
def test_the_panels_run_stops_with_a_message_when_its_folder_is_deleted_or_read_only(
        qtbot, tmp_path: Path, fault: str) -> None:
    runs = tmp_path / "runs"
    panel = make_panel(qtbot, runs, checkpoint_every=2, sample_every=3)
    rec = Recorder(panel)
    run_dir = runs / "tiny"
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: bool(rec.of(CheckpointSaved)) or bool(rec.failures), timeout=WAIT_MS)
    undo = None
    try:
        if fault == "deleted":
            delete_folder(run_dir)
        else:
            undo = make_read_only(run_dir)
        wait_idle(qtbot, panel)  # the run ends by itself: it can write nothing more
    finally:
        if undo is not None:
            undo()
    failed = rec.of(Failed)
    assert failed and len(rec.failures) == 1, rec.failures
    expected = "was deleted or moved away while training" if fault == "deleted" else "could not write"
    assert expected in rec.failures[0] and str(run_dir) in rec.failures[0]
    assert expected in panel.status_label.text()
    assert "Failed" in panel.monitor.state_label.text()
    if fault == "deleted":
        assert not run_dir.exists()  # not re-created piecemeal by later writes
    else:
        # Nothing else lost: the last checkpoint the panel reported is whole.
        last = max(e.step for e in rec.of(CheckpointSaved) if e.reason != "best")
        assert load_training_state(run_dir / "checkpoints" / "last.pt")["step"] == last
    assert panel.start_button.isEnabled() or panel.form.state().message  # the panel is usable again
    panel.shutdown()


def test_the_panels_run_on_a_full_disk_stops_at_a_checkpoint_and_resumes_once_space_is_back(
        disk: SmallDisk, qtbot) -> None:
    runs = disk.path / "runs"
    panel = make_panel(qtbot, runs, checkpoint_every=2)
    rec = Recorder(panel)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: bool(rec.of(CheckpointSaved)) or bool(rec.failures), timeout=WAIT_MS)
    disk.fill()
    wait_idle(qtbot, panel)  # the next checkpoint cannot be written: the run stops
    assert len(rec.failures) == 1 and "disk full" in rec.failures[0], rec.failures
    # The next checkpoint: a step checkpoint, or the best weights after a validation.
    assert re.search(r"could not write (checkpoint step_\d+|best\.safetensors) in ", rec.failures[0])
    saved = max(e.step for e in rec.of(CheckpointSaved) if e.reason != "best")
    run_dir = runs / "tiny"
    assert load_training_state(run_dir / "checkpoints" / "last.pt")["step"] == saved
    panel.shutdown()

    disk.free()
    panel2 = make_panel(qtbot, runs)
    rec2 = Recorder(panel2)
    qtbot.waitUntil(lambda: panel2.history.select_run(run_dir), timeout=WAIT_MS)
    click(qtbot, panel2.history.resume_button)
    wait_steps(qtbot, rec2, 2)
    assert rec2.of(Started)[0].start_step == saved
    click(qtbot, panel2.stop_button)
    wait_idle(qtbot, panel2)
    assert not rec2.failures
    panel2.shutdown()
