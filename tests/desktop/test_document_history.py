"""Random edit/undo/redo sequences against a model that keeps full snapshots (no Qt)."""

from __future__ import annotations

from itertools import pairwise
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.canvas.document import LabelDocument

SHAPE = (12, 16)

op = st.one_of(
    st.tuples(
        st.just("paint"),
        st.integers(-4, 12), st.integers(-4, 16),  # top-left (may hang off the map)
        st.integers(1, 8), st.integers(1, 8),  # mask size
        st.integers(0, 3),  # label
        st.booleans(),  # inside a stroke with a second dab?
    ),
    st.tuples(st.just("undo")),
    st.tuples(st.just("redo")),
    st.tuples(st.just("save")),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(op, max_size=40), st.integers(0, 2**31 - 1))
def test_undo_redo_match_full_snapshots(ops: list[tuple], seed: int) -> None:
    rng = np.random.default_rng(seed)
    doc = LabelDocument(shape=SHAPE, max_history_bytes=10**9)
    states = [doc.ids.copy()]  # the model: every state, and where we stand in it
    pos = 0
    saved_pos: int | None = 0
    for item in ops:
        kind = item[0]
        if kind == "paint":
            _, y, x, h, w, label, second = item
            mask = rng.random((h, w)) < 0.6
            doc.begin_stroke()
            doc.paint_mask(y, x, mask, label)
            if second:
                doc.paint_mask(y + 2, x + 3, mask, (label + 1) % 4)
            recorded = doc.end_stroke()
            assert recorded == (not np.array_equal(states[pos], doc.ids))
            if recorded:
                del states[pos + 1 :]
                if saved_pos is not None and saved_pos > pos:
                    saved_pos = None  # the saved state was on the discarded branch
                states.append(doc.ids.copy())
                pos += 1
        elif kind == "undo":
            assert doc.undo() == (pos > 0)
            pos = max(0, pos - 1)
        elif kind == "redo":
            assert doc.redo() == (pos < len(states) - 1)
            pos = min(len(states) - 1, pos + 1)
        else:
            doc.mark_saved()
            saved_pos = pos
        np.testing.assert_array_equal(doc.ids, states[pos])
        assert doc.undo_depth == pos and doc.redo_depth == len(states) - 1 - pos
        assert doc.modified == (saved_pos != pos)
        # Each step stores one patch: the bounding box of the pixels it changed, no more.
        expected_bytes = 0
        for a, b in pairwise(states):
            rows, cols = np.nonzero(a != b)
            expected_bytes += (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert doc.history_bytes == expected_bytes
