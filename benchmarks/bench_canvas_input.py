"""GUI-thread cost of one mouse-move event while painting on a large label map.

Sends real QMouseEvents to a CanvasView showing a 1024×2048 map (a real Cityscapes labelIds frame
when ../shared/data is present, else a synthetic one) and times, per move:

  handler   the event dispatch alone: tool (swept-disc mask + document write + undo bookkeeping)
            and the dirty-rect recolour of the cached image
  +paint    handler plus the repaint it schedules (processEvents flushes the widget update)

Run:  QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_canvas_input [--moves 200]
Prints a table of p50 / p95 / max in milliseconds. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from desktop.canvas import LabelDocument
from desktop.canvas.view import CanvasView

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cityscapes-mini" / "gtFine"


def load_map() -> tuple[np.ndarray, str]:
    files = sorted(SHARED.glob("*/*/*_labelIds.png")) if SHARED.is_dir() else []
    if files:
        from PIL import Image

        return np.array(Image.open(files[0])), files[0].name
    ids = np.full((1024, 2048), 23, np.uint8)
    ids[512:] = 7
    return ids, "synthetic 1024x2048"


def send(view: CanvasView, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
    event = QMouseEvent(kind, pos, view.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view, event)


def stroke_timings(view: CanvasView, moves: int, with_paint: bool) -> np.ndarray:
    """One long wavy stroke across the view; returns per-move seconds."""
    left = Qt.MouseButton.LeftButton
    w, h = view.width(), view.height()
    path = [
        QPointF(40 + (w - 80) * i / moves, h / 2 + (h / 3) * math.sin(i / moves * 4 * math.pi))
        for i in range(moves + 1)
    ]
    send(view, QEvent.Type.MouseButtonPress, path[0], left, left)
    QApplication.processEvents()
    times = []
    for p in path[1:]:
        t0, c0 = time.perf_counter(), time.thread_time()
        send(view, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
        if with_paint:
            QApplication.processEvents()
        times.append((time.perf_counter() - t0, time.thread_time() - c0))
    send(view, QEvent.Type.MouseButtonRelease, path[-1], left, Qt.MouseButton.NoButton)
    QApplication.processEvents()
    return np.array(times)  # (moves, 2): wall seconds, GUI-thread CPU seconds


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, GUI-thread CPU ms) of fn plus the repaint it causes."""
    t0, c0 = time.perf_counter(), time.thread_time()
    fn()
    QApplication.processEvents()
    return (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000


def one_shot(view: CanvasView, doc: LabelDocument) -> None:
    """Single-event operations on the same map (tool call + recolour + repaint), in ms."""
    from desktop.canvas.tools import make_tool

    view.fit()
    # The view's own context, so the document listener path is the real one.
    ctx = view._ctx  # noqa: SLF001 - a benchmark of the view's internals
    ids = doc.ids
    values, counts = np.unique(ids, return_counts=True)
    big = int(values[counts.argmax()])
    ys, xs = np.nonzero(ids == big)
    fill = make_tool("fill", ctx)
    middle = (xs[len(xs) // 2] + 0.5, ys[len(ys) // 2] + 0.5)
    rows: list[tuple[str, Callable[[], object]]] = [("fill of the largest class region", lambda: fill.press(*middle))]
    rows.append(("undo that fill", doc.undo))
    poly = make_tool("polygon", ctx)

    def polygon() -> None:
        for p in [(10, 10), (2000, 40), (1900, 1000), (1000, 500), (30, 990)]:
            poly.press(*p)
        poly.finish()

    rows.append(("polygon covering most of the map", polygon))
    rows.append(("undo that polygon", doc.undo))
    rows.append(("replace_all (open a new map)", lambda: doc.replace_all(ids.copy())))
    print("\none-shot operations (GUI thread, incl. repaint):      wall      cpu")
    for name, fn in rows:
        wall, cpu = timed(fn)
        print(f"  {name:<46} {wall:7.1f} {cpu:7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    ids, source = load_map()
    doc = LabelDocument(ids)
    view = CanvasView(doc)
    view.set_current_class(25)  # rider: rare, so nearly every stamped pixel really changes
    view.resize(1400, 800)
    view.show()
    app.processEvents()
    print(f"map: {source} {ids.shape[1]}x{ids.shape[0]}, view 1400x800 px, {args.moves} moves per stroke")
    print("wall = elapsed (includes being descheduled on a busy machine); cpu = GUI-thread CPU time")
    print(f"{'zoom':>10} {'brush':>6} {'step':>5} | {'handler p50':>11} {'p95':>6} {'max':>6} | "
          f"{'+paint p50':>10} {'p95':>6} {'max':>6} | {'cpu p50':>7} {'p95':>6} {'max':>6}  (ms)")
    for zoom_label, brush in [("fit", 16), ("fit", 64), ("fit", 200), ("fit", 512), ("100%", 16), ("100%", 64),
                              ("400%", 16)]:
        if zoom_label == "fit":
            view.fit()
        else:
            view.set_zoom(float(zoom_label[:-1]) / 100.0)
        view.set_brush_size(brush)
        doc_step = (1400 - 80) / args.moves / view.zoom
        handler = stroke_timings(view, args.moves, with_paint=False) * 1000
        doc.undo()
        painted = stroke_timings(view, args.moves, with_paint=True) * 1000
        doc.undo()
        hw, pw, pc = handler[:, 0], painted[:, 0], painted[:, 1]
        print(
            f"{zoom_label:>5}{view.zoom:5.2f} {brush:>6} {doc_step:5.1f} | {np.percentile(hw, 50):11.2f} "
            f"{np.percentile(hw, 95):6.2f} {hw.max():6.2f} | {np.percentile(pw, 50):10.2f} "
            f"{np.percentile(pw, 95):6.2f} {pw.max():6.2f} | {np.percentile(pc, 50):7.2f} "
            f"{np.percentile(pc, 95):6.2f} {pc.max():6.2f}"
        )
    print(f"undo history after the runs: {doc.history_bytes} bytes")
    one_shot(view, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
