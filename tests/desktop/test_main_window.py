"""The main window end to end: painting drives the live preview, files, bad input, recovery,
unsaved-changes prompt, settings. Real widgets, real mouse events, a tiny real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF

from core.render.infer import Predictor
from core.labels import class_by_name
from desktop import messages
from desktop.scene import files
from desktop.preview.worker import ModelSource
from tests.desktop.app_helpers import scene_ids

ROAD, CAR, SKY = (class_by_name(n).id for n in ("road", "car", "sky"))


def _show_scene(window, qtbot, ids: np.ndarray) -> None:
    window.session.load_ids(ids, None)
    window.resize(900, 500)
    window.show()
    qtbot.waitExposed(window)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)  # 1 document pixel = 4 widget pixels


def _load_model(window, qtbot, checkpoint: Path) -> None:
    with qtbot.waitSignal(window.preview.model_loaded, timeout=30_000):
        window.load_model(ModelSource(path=checkpoint))
    qtbot.waitUntil(lambda: window.shown_version == window.session.document.version, timeout=30_000)


def test_a_stroke_triggers_a_preview_equal_to_the_predictor_output(make_window, qtbot, mouse_for,
                                                                   tiny_checkpoint):
    window = make_window()
    _show_scene(window, qtbot, scene_ids())
    _load_model(window, qtbot, tiny_checkpoint)
    window.canvas.set_current_class(CAR)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)
    before = np.array(window.session.document.ids)
    with qtbot.waitSignal(window.preview_displayed, timeout=30_000,
                          check_params_cb=lambda v: v == window.session.document.version):
        mouse_for(window.canvas).drag([(40, 100), (80, 100), (120, 100)])
    doc_ids = np.array(window.session.document.ids)
    assert (doc_ids != before).any() and (doc_ids[doc_ids != before] == CAR).all()
    expected = Predictor.from_path(tiny_checkpoint, device="cpu").predict(doc_ids)
    np.testing.assert_array_equal(window.last_output, expected)
    np.testing.assert_array_equal(window.last_output_ids, doc_ids)  # the overlay shows these labels
    assert "ms on cpu" in window.status.inference.text()
    assert window.status.model.text() == "Model: tiny.safetensors"
    assert window.windowTitle().startswith("Untitled scene*")


def test_without_a_model_the_window_says_so(make_window, qtbot) -> None:
    window = make_window()
    window.show()
    assert not window.preview.has_model and not window.preview.loading
    assert "No model loaded" in window.status.model.text()
    assert "Load checkpoint" in window.status.model.text()
    assert "No model loaded" in window.preview_panel.view.placeholder()


@pytest.mark.parametrize("fmt", ["ids", "color"])
def test_open_save_round_trip_through_the_window(make_window, qtbot, tmp_path, fmt) -> None:
    window = make_window()
    ids = scene_ids()
    ids[5:9, 10:20] = CAR
    source = files.save_label_map(tmp_path / "in.png", ids, fmt)
    with qtbot.waitSignal(window.session.opened, timeout=10_000):
        window.open_path(source, confirmed=True)
    np.testing.assert_array_equal(window.session.document.ids, ids)
    out = tmp_path / "out.png"
    with qtbot.waitSignal(window.session.saved, timeout=10_000):
        window.session.save_to(out, fmt)
    again = files.open_label_map(out)
    np.testing.assert_array_equal(again.ids, ids)
    assert not window.session.document.modified
    assert window.session.path == out
    assert out.resolve() in window.session.recent.paths()


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, a phrase the message must contain)."""
    made: dict[str, tuple[Path, str]] = {}
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    made["empty"] = (empty, "empty")
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    made["not an image"] = (text, "not an image")
    truncated = tmp_path / "truncated.png"
    files.save_label_map(truncated, scene_ids(64, 128), "ids")
    truncated.write_bytes(truncated.read_bytes()[:60])
    made["truncated"] = (truncated, "corrupt")
    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (32, 64, 3), dtype=np.uint8)).save(photo)
    made["photo"] = (photo, "does not look like a label map")
    bad_ids = tmp_path / "bad_ids.png"
    Image.fromarray(np.full((16, 16), 200, dtype=np.uint8)).save(bad_ids)
    made["ids outside the table"] = (bad_ids, "200")
    huge = tmp_path / "absurd.png"
    Image.fromarray(np.zeros((8, 9000), dtype=np.uint8)).save(huge)
    made["absurd size"] = (huge, "too large")
    made["missing"] = (tmp_path / "missing.png", "no such file")
    return made


def test_each_bad_file_gets_its_message_and_the_document_is_unchanged(make_window, qtbot, tmp_path,
                                                                     error_boxes) -> None:
    window = make_window()
    ids = scene_ids()
    window.session.load_ids(ids, None)
    doc = window.session.document
    for name, (path, phrase) in _bad_files(tmp_path).items():
        error_boxes.clear()
        if name == "photo":  # not refused: offered as a photo (declined here; tests/desktop/test_open_photo.py)
            with qtbot.waitSignal(window.session.photo_offered, timeout=10_000):
                window.open_path(path, confirmed=True)
            assert not error_boxes and window.session.document is doc
            continue
        with qtbot.waitSignal(window.session.open_failed, timeout=10_000):
            window.open_path(path, confirmed=True)
        assert len(error_boxes) == 1, name
        title, text = error_boxes[0]
        assert path.name in text, (name, text)
        assert phrase in text, (name, text)
        assert "Traceback" not in text
        assert window.session.document is doc, name
        np.testing.assert_array_equal(doc.ids, ids)


def test_a_checkpoint_of_the_wrong_kind_gets_a_message(make_window, qtbot, tmp_path, error_boxes) -> None:
    window = make_window()
    wrong = tmp_path / "labels.safetensors"
    wrong.write_bytes(b"\x00" * 64)
    with qtbot.waitSignal(window.preview.model_failed, timeout=30_000):
        window.load_model(ModelSource(path=wrong))
    assert error_boxes and "labels.safetensors" in error_boxes[0][1]
    assert "No model loaded" in window.status.model.text()


def test_recovery_file_restores_the_scene_after_a_crash(make_window, qtbot, mouse_for, monkeypatch,
                                                       tmp_path) -> None:
    first = make_window()
    _show_scene(first, qtbot, scene_ids())
    first.canvas.set_current_class(SKY)
    mouse_for(first.canvas).drag([(20, 60), (200, 60)])
    painted = np.array(first.session.document.ids)
    assert first.session.document.modified
    first.session.autosaver.flush()
    # "Crash": the first window never closes; a new one starts with the same settings folder.
    first.preview.stop()
    offered: list[str] = []
    def ask_restore_recovery(parent: object, text: str) -> bool:
        offered.append(text)
        return True

    monkeypatch.setattr(messages, "ask_restore_recovery", ask_restore_recovery)
    second = make_window()
    assert second.session.offer_recovery()
    assert offered and "never saved" in offered[0]
    np.testing.assert_array_equal(second.session.document.ids, painted)
    assert second.session.document.modified  # restored work is unsaved work


def test_clean_save_removes_the_recovery_file(make_window, qtbot, mouse_for, tmp_path) -> None:
    window = make_window()
    _show_scene(window, qtbot, scene_ids())
    mouse_for(window.canvas).drag([(20, 60), (100, 60)])
    window.session.autosaver.flush()
    assert window.session.autosaver.store.exists()
    with qtbot.waitSignal(window.session.saved, timeout=10_000):
        window.session.save_to(tmp_path / "saved.png", "ids")
    assert not window.session.autosaver.store.exists()


def test_closing_with_unsaved_changes_asks_and_cancel_keeps_the_window(make_window, qtbot, mouse_for,
                                                                       monkeypatch) -> None:
    window = make_window()
    _show_scene(window, qtbot, scene_ids())
    mouse_for(window.canvas).drag([(20, 60), (100, 60)])
    answers = [messages.UnsavedChoice.CANCEL, messages.UnsavedChoice.DISCARD]
    asked: list[str] = []
    def ask_unsaved_changes(parent: object, name: str) -> messages.UnsavedChoice:
        asked.append(name)
        return answers.pop(0)

    monkeypatch.setattr(messages, "ask_unsaved_changes", ask_unsaved_changes)
    assert not window.close()
    assert window.isVisible()
    assert window.close()
    assert asked == ["Untitled scene", "Untitled scene"]
    assert not window.session.autosaver.store.exists()  # discarded on purpose: nothing to recover


def test_view_switch_and_window_state_persist_in_isolated_settings(make_window, qtbot, isolated_home) -> None:
    window = make_window()
    window.show()
    window.set_view_mode("swipe")
    window.preview_panel.opacity_slider.setValue(70)
    window.save_settings()
    again = make_window()
    assert again.preview_panel.view.mode() == "swipe"
    assert again.preview_panel.opacity_slider.value() == 70
    assert (isolated_home / "settings").exists()
    with pytest.raises(ValueError, match="unknown view"):
        window.set_view_mode("sideways")


def test_tool_shortcuts_and_undo_act_on_the_canvas(make_window, qtbot, mouse_for) -> None:
    window = make_window()
    _show_scene(window, qtbot, scene_ids())
    window.activateWindow()
    window.canvas.setFocus()
    for key, tool in (("F", "fill"), ("R", "rect"), ("I", "eyedropper"), ("B", "brush")):
        for action in window.tool_bar.tool_actions.values():
            if action.shortcut().toString() == key:
                action.trigger()  # what the shortcut does; offscreen has no keyboard focus routing
        assert window.canvas.tool == tool
        assert window.tool_bar.tool_actions[tool].isChecked()
    before = np.array(window.session.document.ids)
    mouse_for(window.canvas).drag([(20, 60), (100, 60)])
    assert (np.array(window.session.document.ids) != before).any()
    window.actions_.undo.trigger()
    np.testing.assert_array_equal(window.session.document.ids, before)
    window.actions_.redo.trigger()
    assert (np.array(window.session.document.ids) != before).any()
    assert [s.toString() for s in window.actions_.redo.shortcuts()] == ["Ctrl+Shift+Z", "Ctrl+Y"]


def test_model_card_shows_architecture_and_training_history(make_window, qtbot, tiny_checkpoint) -> None:
    from desktop.window.model_menu import card_rows

    window = make_window()
    with qtbot.waitSignal(window.preview.model_loaded, timeout=30_000) as blocker:
        window.load_model(ModelSource(path=tiny_checkpoint))
    rows = dict(card_rows(blocker.args[0]))
    assert rows["Architecture"].startswith("unet, depth 3")
    assert rows["Filters (ngf)"] == "4"
    assert rows["Steps"] == "123"
    assert rows["Training data"] == "unit test"
    assert window.model_menu.card_action.isEnabled()


def test_new_scene_replaces_the_document_with_the_chosen_size(make_window, qtbot) -> None:
    window = make_window()
    window.session.new_scene(64, 96, class_by_name("road").id)
    doc = window.session.document
    assert doc.shape == (64, 96)
    assert (np.asarray(doc.ids) == ROAD).all()
    assert window.canvas.document is doc
    assert not doc.modified


def test_opening_another_scene_renders_it_even_though_its_versions_start_again(make_window, qtbot, mouse_for,
                                                                              tiny_checkpoint, tmp_path) -> None:
    window = make_window()
    _show_scene(window, qtbot, scene_ids())
    _load_model(window, qtbot, tiny_checkpoint)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)
    for row in (60, 70, 80):  # the old document reaches a higher version than the new one will
        with qtbot.waitSignal(window.preview_displayed, timeout=30_000):
            mouse_for(window.canvas).drag([(20, row), (120, row), (200, row)])
    qtbot.waitUntil(lambda: not window.preview.in_flight, timeout=30_000)
    other = scene_ids(64, 32)
    other[40:50] = CAR
    path = files.save_label_map(tmp_path / "other.png", other, "ids")
    window.session.document.mark_saved()
    with qtbot.waitSignal(window.preview_displayed, timeout=30_000):
        window.open_path(path)
    expected = Predictor.from_path(tiny_checkpoint, device="cpu").predict(other)
    np.testing.assert_array_equal(window.last_output, expected)


def test_dropping_a_label_map_opens_it(make_window, qtbot, tmp_path) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    window = make_window()
    ids = scene_ids()
    ids[0:4] = CAR
    path = files.save_label_map(tmp_path / "dropped.png", ids, "color")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.session.opened, timeout=10_000):
        window.dropEvent(event)
    np.testing.assert_array_equal(window.session.document.ids, ids)
    assert "colour label map" in window.statusBar().currentMessage()


def test_unexpected_errors_go_to_a_dialog_not_a_crash(monkeypatch) -> None:
    import sys

    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    messages.set_error_sink(lambda title, text: shown.append((title, text)))
    try:
        messages.install_excepthook(lambda: None)
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        messages.set_error_sink(None)
    assert shown == [("Unexpected error", "RuntimeError: boom")]


def test_training_panels_use_in_canvas_loads_that_checkpoint(make_window, qtbot, tiny_checkpoint) -> None:
    window = make_window()
    if window.training_panel is None:
        pytest.skip("desktop.training.panel is not importable")
    with qtbot.waitSignal(window.preview.model_loaded, timeout=30_000) as blocker:
        window.training_panel.use_in_canvas_requested.emit(str(tiny_checkpoint))
    assert blocker.args[0].path == tiny_checkpoint
    assert window.status.model.text() == "Model: tiny.safetensors"


def test_the_generated_image_follows_the_canvas_zoom_and_pan(make_window, qtbot) -> None:
    window = make_window()
    _show_scene(window, qtbot, scene_ids())  # zoom 4, document corner at the widget corner
    def linked() -> tuple[float, float, float] | None:
        return window.preview_panel.view._linked
    qtbot.waitUntil(lambda: (link := linked()) is not None and link[0] == 4.0)
    canvas, view = window.canvas, window.preview_panel.view
    rect = view.image_rect()
    assert rect.width() == pytest.approx(64 * 4) and rect.height() == pytest.approx(32 * 4)
    # The document pixel at the canvas centre is at the view centre.
    cx, cy = canvas.widget_to_document(QPointF(canvas.width() / 2, canvas.height() / 2))
    assert rect.left() + cx * 4 == pytest.approx(view.width() / 2)
    assert rect.top() + cy * 4 == pytest.approx(view.height() / 2)
    canvas.fit()
    qtbot.waitUntil(lambda: linked() is None)


def test_once_the_first_model_is_loaded_start_up_objects_leave_the_garbage_collectors_walk(
        make_window, qtbot, tiny_checkpoint, monkeypatch) -> None:
    """A full garbage collection walks every object and holds the GIL: over torch + Qt + a model
    that froze the GUI thread for 100+ ms. After the first model load, the objects alive then
    (modules, classes, the model) are frozen out of the walk; objects made later still are
    collected."""
    import gc

    from desktop import gc_policy

    gc.unfreeze()
    monkeypatch.setattr(gc_policy, "_frozen", False)
    window = make_window()
    _show_scene(window, qtbot, scene_ids())
    assert gc.get_freeze_count() == 0
    _load_model(window, qtbot, tiny_checkpoint)
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # torch, Qt and the app's modules
    _load_model(window, qtbot, tiny_checkpoint)  # once per process: nothing made later is frozen
    assert gc.get_freeze_count() <= frozen  # (frozen objects still die when their last reference goes)

    class Cycle:
        pass

    garbage = Cycle()
    garbage.me = garbage  # type: ignore[attr-defined]  # a reference cycle only the collector frees
    del garbage
    assert gc.collect() >= 1  # later objects are still collected
