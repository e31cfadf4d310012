"""File ▸ Open photo… (issue 19 §3): a real CamVid test photo, scaled down, is segmented by the
bundled segmenter on the worker thread; its labels become the canvas document as one undoable
step, the photo is the tracing layer under them, and bad photos are named, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from core.labels import ID_TO_COLOR
from core.photo_labels.segment import PhotoSegmenter, load_photo
from desktop import messages
from desktop.scene import files
from tests.desktop.app_helpers import scene_ids

CAMVID_PHOTO = Path(__file__).resolve().parents[3] / "shared" / "data" / "camvid" / "test" / "0001TP_008550.png"
WAIT_MS = 120_000  # only turns a hang into a failure (a shared machine)

pytestmark = pytest.mark.skipif(not CAMVID_PHOTO.is_file(), reason="../shared/data/camvid is not present")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """The real CamVid test photo scaled down to 128×96 (the segmenter runs on it for real)."""
    out = tmp_path / "street.png"
    with Image.open(CAMVID_PHOTO) as im:
        im.convert("RGB").resize((128, 96), Image.Resampling.LANCZOS).save(out)
    return out


def trigger_shortcut(window, key: str) -> None:
    """What pressing `key` does: offscreen Qt has no keyboard focus routing for window shortcuts."""
    for action in window.findChildren(type(window.actions_.undo)):
        if any(s.toString() == key for s in action.shortcuts()) and action.isEnabled():
            action.trigger()
            return
    raise AssertionError(f"no enabled action for {key}")


def open_photo(window, qtbot, path: Path, monkeypatch) -> None:
    import desktop.photo.link as link

    monkeypatch.setattr(link.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.photo.photo_opened, timeout=WAIT_MS):
        trigger_shortcut(window, "Ctrl+Alt+O")  # File ▸ Open photo…
        assert window.photo.progress.isVisibleTo(window.status)  # progress and Cancel while it runs


def test_open_photo_gives_the_segmenters_labels_and_undo_brings_back_the_old_scene(
        make_window, qtbot, photo, monkeypatch, mouse_for, tmp_path) -> None:
    window = make_window()
    window.resize(1000, 600)
    window.show()
    old = scene_ids()
    window.session.load_ids(old, None)
    old_doc = window.session.document
    open_photo(window, qtbot, photo, monkeypatch)

    rgb = load_photo(photo)[0]
    expected = PhotoSegmenter().segment_rgb(rgb)
    doc = window.session.document
    assert doc.shape == (96, 128)
    np.testing.assert_array_equal(doc.ids, expected)
    brush_ids = {0, 7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33}
    assert set(np.unique(doc.ids).tolist()) <= brush_ids
    assert {7, 23} <= set(np.unique(doc.ids).tolist())  # this street frame has road and sky
    source = window.session.photo
    assert source is not None and source.path == photo and len(source.sha256) == 64
    np.testing.assert_array_equal(source.rgb, rgb)
    np.testing.assert_array_equal(source.original_ids, expected)
    assert "street.png" in window.windowTitle() and doc.modified
    assert window.canvas.photo_shown and not window.photo.progress.isVisible()

    # A stroke on the labels is undone on its own; the photo layer stays through it.
    mouse = mouse_for(window.canvas)
    centre = window.canvas.document_to_widget(64, 48)
    window.canvas.set_current_class(21)  # vegetation
    mouse.drag([(centre.x(), centre.y()), (centre.x() + 20, centre.y())])
    assert not np.array_equal(doc.ids, expected)
    assert source.changed_mask(doc.ids).any()
    trigger_shortcut(window, "Ctrl+Z")
    np.testing.assert_array_equal(doc.ids, expected)
    assert window.session.document is doc and window.canvas.has_photo

    # The next undo is "open photo": the old scene, its document object and no photo.
    trigger_shortcut(window, "Ctrl+Z")
    assert window.session.document is old_doc and window.session.photo is None
    np.testing.assert_array_equal(window.session.document.ids, old)
    assert not window.canvas.has_photo and "street.png" not in window.windowTitle()
    trigger_shortcut(window, "Ctrl+Shift+Z")  # redo: the photo's labels again
    assert window.session.document is doc and window.canvas.photo_shown

    # Saved like any painting (never over the photo): the file holds the labels.
    window.session.save_blocking(tmp_path / "street_labels.png", "ids")
    np.testing.assert_array_equal(files.open_label_map(tmp_path / "street_labels.png").ids, expected)
    assert photo.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and window.session.photo is source

    # Opening another painting clears the layer.
    window.session.new_scene(32, 64)
    assert window.session.photo is None and not window.canvas.has_photo


def _grab(window) -> np.ndarray:
    QApplication.processEvents()
    image = window.canvas.grab().toImage().convertToFormat(window.canvas.grab().toImage().Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : 3 * w].reshape(h, w, 3).astype(np.int32)


def test_the_photo_layer_opacity_and_toggle_change_what_the_canvas_draws(make_window, qtbot, photo,
                                                                          monkeypatch) -> None:
    window = make_window()
    window.resize(1000, 600)
    window.show()
    qtbot.waitExposed(window)
    open_photo(window, qtbot, photo, monkeypatch)
    canvas, bar = window.canvas, window.photo.bar
    point = canvas.document_to_widget(64.5, 80.5)  # a road pixel near the bottom
    x, y = int(point.x()), int(point.y())
    label = ID_TO_COLOR[window.session.document.ids[80, 64]].astype(np.int32)
    pixel = window.session.photo.rgb[80, 64].astype(np.int32)

    bar.label_slider.setFocus()
    qtbot.keyClick(bar.label_slider, Qt.Key.Key_Home)  # labels 0 %: the photo alone
    assert bar.label_slider.value() == 0 and canvas.label_opacity == 0.0
    photo_only = _grab(window)[y, x]
    assert np.abs(photo_only - pixel).max() <= 2

    qtbot.keyClick(bar.label_slider, Qt.Key.Key_End)  # labels 100 %: the labels cover it
    np.testing.assert_allclose(_grab(window)[y, x], label, atol=2)

    bar.label_slider.setValue(50)
    half = _grab(window)[y, x]
    np.testing.assert_allclose(half, (label + pixel) / 2, atol=3)

    bar.photo_slider.setFocus()
    qtbot.keyClick(bar.photo_slider, Qt.Key.Key_Home)  # photo 0 %: labels at 50 % over the background
    assert np.abs(_grab(window)[y, x] - half).max() > 10

    trigger_shortcut(window, "Ctrl+Alt+P")  # hide the photo layer: the labels opaque, as without one
    assert not canvas.photo_shown
    np.testing.assert_allclose(_grab(window)[y, x], label, atol=2)


def test_a_photo_opened_or_dropped_as_a_label_map_is_offered(make_window, qtbot, photo, monkeypatch) -> None:
    window = make_window()
    asked: list[str] = []
    answers = iter([False, True])

    def ask(_parent: object, name: str) -> bool:
        asked.append(name)
        return next(answers)

    monkeypatch.setattr(messages, "ask_open_as_photo", ask)

    with qtbot.waitSignal(window.session.photo_offered, timeout=WAIT_MS):
        window.open_path(photo)  # File ▸ Open label map… with a photo: declined
    assert asked == ["street.png"] and window.session.photo is None
    assert "looks like a photo" in window.statusBar().currentMessage()

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.photo.photo_opened, timeout=WAIT_MS):
        window.dropEvent(drop)  # dropped on the canvas: accepted this time
    assert asked == ["street.png", "street.png"]
    assert window.session.document.shape == (96, 128) and window.canvas.photo_shown


def test_bad_photos_are_named_and_change_nothing(make_window, qtbot, photo, tmp_path, error_boxes,
                                                 monkeypatch) -> None:
    window = make_window()
    before = window.session.document
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(photo.read_bytes()[:200])
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("not a photo\n")
    for bad in (truncated, not_an_image):
        with qtbot.waitSignal(window.photo.opener.failed, timeout=WAIT_MS):
            window.photo.open_photo(bad)
    assert [title for title, _ in error_boxes] == ["Cannot open photo", "Cannot open photo"]
    for (_title, text), bad in zip(error_boxes, (truncated, not_an_image), strict=True):
        assert str(bad) in text and "Traceback" not in text
    assert window.session.document is before and window.session.photo is None
    assert not window.photo.progress.isVisible()


def test_cancel_drops_the_photo(make_window, qtbot, photo) -> None:
    window = make_window()
    before = window.session.document
    with qtbot.waitSignal(window.photo.opener.cancelled, timeout=WAIT_MS):
        window.photo.open_photo(photo)
        qtbot.mouseClick(window.photo.progress.cancel_button, Qt.MouseButton.LeftButton)
    # The worker finishes its current stage and reports; nothing is opened.
    qtbot.waitUntil(lambda: not window.photo.opener._paths, timeout=WAIT_MS)
    assert window.session.document is before and window.session.photo is None


def test_the_app_uses_the_bundled_segmenter_core_names() -> None:
    from core.photo_labels.segment import DEFAULT_SEGMENTER
    from desktop.photo import opener

    assert opener.DEFAULT_SEGMENTER == DEFAULT_SEGMENTER  # kept apart only so the window loads without torch
