"""LabelDocument without Qt: strokes as single undo steps, region-only history, notifications."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from desktop.canvas.document import LabelDocument


def _box(h: int, w: int) -> np.ndarray:
    return np.ones((h, w), dtype=bool)


def test_importing_document_and_tools_loads_no_qt() -> None:
    code = (
        "import json, sys\n"
        "import desktop.canvas, desktop.canvas.document, desktop.canvas.tools, desktop.canvas.geometry\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_stroke_is_one_undo_step_and_stores_only_the_changed_box() -> None:
    doc = LabelDocument(shape=(100, 200))
    doc.begin_stroke()
    doc.paint_mask(10, 20, _box(5, 5), 7)  # rows 10..14, cols 20..24
    doc.paint_mask(30, 50, _box(2, 3), 7)  # rows 30..31, cols 50..52
    assert doc.undo_depth == 0 and doc.in_stroke
    assert doc.end_stroke() is True
    assert doc.undo_depth == 1
    # One patch covering exactly the union box rows 10..31, cols 20..52 — not the whole image.
    assert doc.history_bytes == (32 - 10) * (53 - 20)
    painted = doc.ids.copy()
    assert painted.sum() == 7 * (25 + 6)

    assert doc.undo() is True
    assert not doc.ids.any()
    assert doc.can_redo and not doc.can_undo
    assert doc.redo() is True
    np.testing.assert_array_equal(doc.ids, painted)


def test_change_outside_a_stroke_is_its_own_step_and_noop_records_nothing() -> None:
    doc = LabelDocument(shape=(8, 8))
    assert doc.paint_mask(0, 0, _box(2, 2), 26) == (0, 0, 2, 2)
    assert doc.paint_mask(4, 4, _box(2, 2), 26) is not None
    assert doc.undo_depth == 2
    version = doc.version
    assert doc.paint_mask(0, 0, _box(2, 2), 26) is None  # same class over itself: nothing changes
    doc.begin_stroke()
    doc.paint_mask(0, 0, _box(1, 1), 26)
    assert doc.end_stroke() is False
    assert doc.undo_depth == 2 and doc.version == version


def test_paint_clips_to_the_document() -> None:
    doc = LabelDocument(shape=(4, 4))
    rect = doc.paint_mask(-2, 3, _box(4, 4), 11)
    assert rect == (0, 3, 2, 4)
    expected = np.zeros((4, 4), np.uint8)
    expected[0:2, 3] = 11
    np.testing.assert_array_equal(doc.ids, expected)
    assert doc.paint_mask(10, 10, _box(2, 2), 11) is None


def test_stroke_growing_across_the_image_undoes_exactly() -> None:
    rng = np.random.default_rng(0)
    start = rng.integers(0, 34, size=(300, 400)).astype(np.uint8)
    doc = LabelDocument(start)
    doc.begin_stroke()
    for i in range(40):  # boxes far apart force the before-buffer to grow repeatedly
        doc.paint_mask(i * 7, i * 9, _box(6, 6), 24)
    doc.end_stroke()
    assert doc.undo_depth == 1
    doc.undo()
    np.testing.assert_array_equal(doc.ids, start)


def test_listeners_get_the_changed_rect_and_version_counts_changes() -> None:
    doc = LabelDocument(shape=(10, 10))
    seen: list[tuple[int, int, int, int]] = []
    doc.add_listener(seen.append)
    doc.paint_mask(2, 3, _box(2, 2), 7)
    doc.undo()
    doc.redo()
    assert seen == [(2, 3, 4, 5)] * 3
    assert doc.version == 3
    doc.remove_listener(seen.append)
    doc.paint_mask(0, 0, _box(1, 1), 8)
    assert len(seen) == 3 and doc.version == 4


def test_modified_follows_the_clean_state() -> None:
    doc = LabelDocument(shape=(6, 6))
    assert not doc.modified
    doc.paint_mask(0, 0, _box(1, 1), 7)
    assert doc.modified
    doc.mark_saved()
    assert not doc.modified
    doc.undo()
    assert doc.modified
    doc.redo()
    assert not doc.modified
    doc.undo()
    doc.paint_mask(3, 3, _box(1, 1), 8)  # new branch: the saved state is unreachable
    assert doc.modified
    doc.undo()
    assert doc.modified


def test_replace_all_clears_history_or_records_one_step() -> None:
    doc = LabelDocument(shape=(4, 6))
    doc.paint_mask(0, 0, _box(1, 1), 7)
    new = np.full((5, 7), 21, np.uint8)
    rects: list[tuple[int, int, int, int]] = []
    doc.add_listener(rects.append)
    doc.replace_all(new)
    assert doc.shape == (5, 7) and rects == [(0, 0, 5, 7)]
    assert not doc.can_undo and not doc.modified and doc.history_bytes == 0

    doc.replace_all(np.zeros((5, 7), np.uint8), undoable=True)
    assert doc.modified and doc.undo_depth == 1
    doc.undo()
    np.testing.assert_array_equal(doc.ids, new)
    with pytest.raises(ValueError):
        doc.replace_all(np.zeros((2, 2), np.uint8), undoable=True)


def test_history_is_bounded_by_bytes_dropping_oldest_steps() -> None:
    doc = LabelDocument(shape=(10, 10), max_history_bytes=250)
    for i in range(5):  # each step stores 10×10 = 100 bytes
        doc.fill_rect((0, 0, 10, 10), 7 + i)
    assert doc.undo_depth == 2 and doc.history_bytes == 200
    doc.undo()
    doc.undo()
    assert not doc.undo()
    assert (doc.ids == 9).all()  # the state after the third fill: older steps were dropped


def test_undo_during_a_stroke_undoes_that_stroke() -> None:
    doc = LabelDocument(shape=(5, 5))
    doc.begin_stroke()
    doc.paint_mask(1, 1, _box(2, 2), 7)
    assert doc.can_undo
    assert doc.undo()
    assert not doc.in_stroke and not doc.ids.any()


def test_ids_view_is_read_only_and_bad_input_is_rejected() -> None:
    doc = LabelDocument(shape=(3, 3))
    with pytest.raises(ValueError):
        doc.ids[0, 0] = 5
    with pytest.raises(ValueError):
        LabelDocument(np.zeros((3, 3, 3), np.uint8))
    with pytest.raises(ValueError):
        doc.paint_mask(0, 0, _box(1, 1), 300)
