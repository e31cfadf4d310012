"""Every way the app opens a label map, with files it cannot use: File ▸ Open…, drag and drop,
the command line, and a recent-files entry. Each bad file gets a message box naming the file and
the problem, and the painting on screen and its undo history stay exactly as they were.
Real files on disk, real widgets (pytest-qt)."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

import core.io.imageio
from desktop import messages
from desktop.scene import files
from tests.desktop.app_helpers import scene_ids

CAR = 26


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb(path: Path) -> Path:
    """A 60-byte PNG whose header claims 40000×40000 pixels (1.6 G): decoding it would take
    gigabytes of memory; it must be refused from the header alone."""
    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                     + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b""))
    return path


def bad_files(folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[Path, str]]:
    """name -> (file, a phrase its message must contain). Made fresh in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, tuple[Path, str]] = {}
    truncated = folder / "truncated.png"
    files.save_label_map(truncated, scene_ids(64, 128), "ids")
    truncated.write_bytes(truncated.read_bytes()[:-40])  # the end of the image data is missing
    made["truncated PNG"] = (truncated, "truncated or corrupt image")
    made["decompression bomb"] = (_bomb(folder / "bomb.png"), "image too large (40000×40000 pixels")
    ids = folder / "ids_out_of_range.png"
    values = np.full((32, 64), 7, np.uint8)
    values[:4, :4] = 34  # one past the Cityscapes table
    values[-2:, -2:] = 250
    Image.fromarray(values).save(ids)
    made["ids outside 0..33"] = (ids, "label ids outside the Cityscapes table (0..33): 34, 250")
    empty = folder / "empty.png"
    empty.write_bytes(b"")
    made["empty file"] = (empty, "empty file (0 bytes)")
    a_folder = folder / "scene.png"  # a folder with an image's name
    a_folder.mkdir()
    made["a folder"] = (a_folder, "is a folder, not an image file")
    locked = folder / "locked.png"
    files.save_label_map(locked, scene_ids(), "ids")
    locked.chmod(0)
    if os.geteuid() == 0:
        # root reads chmod-000 files, so the kernel's refusal is played by open() itself.
        real_open = open

        def refusing_open(file, *args, **kwargs):
            if Path(file) == locked:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(core.io.imageio, "open", refusing_open, raising=False)
    made["no read permission"] = (locked, "cannot be read: permission denied")
    return made


def _painted_window(make_window, qtbot, mouse_for):
    """A window with a painting that has an undo history: scene + one car stroke."""
    window = make_window()
    window.session.load_ids(scene_ids(), None)
    window.resize(900, 500)
    window.show()
    qtbot.waitExposed(window)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)
    window.canvas.set_current_class(CAR)
    mouse_for(window.canvas).drag([(20, 60), (120, 60), (200, 60)])
    assert window.session.document.modified
    return window


def _assert_refused(window, qtbot, error_boxes, path: Path, phrase: str, open_it: Callable[[], None]) -> None:
    """open_it() must end in exactly one message box naming `path` and `phrase`, with the
    document (object, pixels, undo history) untouched."""
    doc = window.session.document
    before = np.array(doc.ids)
    error_boxes.clear()
    with qtbot.waitSignal(window.session.open_failed, timeout=30_000):
        open_it()
    assert len(error_boxes) == 1, (path, error_boxes)
    title, text = error_boxes[0]
    assert title == "Cannot open label map"
    assert str(path) in text and phrase in text, (phrase, text)
    assert "Traceback" not in text and "\n" not in text
    assert window.session.document is doc
    np.testing.assert_array_equal(doc.ids, before)
    # The undo history is the painting's own: undo takes the stroke back, redo restores it.
    window.actions_.undo.trigger()
    assert not (np.asarray(doc.ids) == CAR).any()
    window.actions_.redo.trigger()
    np.testing.assert_array_equal(doc.ids, before)


def test_file_open_menu_refuses_each_bad_file(make_window, qtbot, mouse_for, error_boxes, tmp_path,
                                              monkeypatch) -> None:
    from desktop import main_window

    window = _painted_window(make_window, qtbot, mouse_for)
    # The user answers "discard" to the unsaved-changes question, then picks the file.
    monkeypatch.setattr(messages, "ask_unsaved_changes", lambda parent, name: messages.UnsavedChoice.DISCARD)
    for _name, (path, phrase) in bad_files(tmp_path, monkeypatch).items():
        monkeypatch.setattr(main_window.QFileDialog, "getOpenFileName",
                            lambda *a, _p=path, **k: (str(_p), files.LABEL_FILE_FILTER))
        _assert_refused(window, qtbot, error_boxes, path, phrase, window.actions_.open.trigger)


def test_drag_and_drop_refuses_each_bad_file(make_window, qtbot, mouse_for, error_boxes, tmp_path,
                                             monkeypatch) -> None:
    window = _painted_window(make_window, qtbot, mouse_for)
    monkeypatch.setattr(messages, "ask_unsaved_changes", lambda parent, name: messages.UnsavedChoice.DISCARD)

    def drop(path: Path) -> Callable[[], None]:
        def send() -> None:
            mime = QMimeData()
            mime.setUrls([QUrl.fromLocalFile(str(path))])
            window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                        Qt.KeyboardModifier.NoModifier))
        return send

    for _name, (path, phrase) in bad_files(tmp_path, monkeypatch).items():
        _assert_refused(window, qtbot, error_boxes, path, phrase, drop(path))


def test_a_recent_file_that_is_gone_or_bad_is_refused_and_a_gone_one_leaves_the_list(
        make_window, qtbot, mouse_for, error_boxes, tmp_path, monkeypatch) -> None:
    window = _painted_window(make_window, qtbot, mouse_for)
    monkeypatch.setattr(messages, "ask_unsaved_changes", lambda parent, name: messages.UnsavedChoice.DISCARD)
    deleted = tmp_path / "deleted.png"
    files.save_label_map(deleted, scene_ids(), "ids")
    cases = {"deleted since": (deleted, "no such file"), **bad_files(tmp_path / "bad", monkeypatch)}
    for path, _phrase in reversed(list(cases.values())):
        window.session.recent.add(path)
    deleted.unlink()
    window._rebuild_recent_menu()
    for path, phrase in cases.values():
        entry = next(a for a in window._recent_menu.actions() if a.toolTip() == str(path.resolve()))
        _assert_refused(window, qtbot, error_boxes, path, phrase, entry.trigger)
    assert deleted.resolve() not in window.session.recent.paths()  # gone for good: off the list
    assert (tmp_path / "bad" / "empty.png").resolve() in window.session.recent.paths()  # may be fixed: stays


@pytest.mark.parametrize("kind", ["truncated PNG", "decompression bomb", "ids outside 0..33", "empty file",
                                  "a folder", "no read permission"])
def test_the_command_line_refuses_a_bad_file_and_shows_the_sample_scene(
        qtbot, isolated_home, no_leaked_windows, error_boxes, tiny_checkpoint, tmp_path, monkeypatch,
        kind: str) -> None:
    from desktop.app import open_window
    from desktop.scene.default import default_scene

    path, phrase = bad_files(tmp_path / "files", monkeypatch)[kind]
    window = None
    try:
        window = open_window(path, tiny_checkpoint, device="cpu")  # `roadstudio FILE --checkpoint CKPT`
        qtbot.waitUntil(lambda: bool(error_boxes), timeout=30_000)
        assert len(error_boxes) == 1
        title, text = error_boxes[0]
        assert title == "Cannot open label map" and str(path) in text and phrase in text
        np.testing.assert_array_equal(window.session.document.ids, default_scene()[0])  # the sample stays
        assert not window.session.document.modified
    finally:
        if window is not None:
            window.shutdown()
            window.hide()
