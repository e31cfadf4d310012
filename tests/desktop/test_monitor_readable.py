"""A monitor a person can read (issue 20 §2), on a 1366×768 and a 1920×1080 screen: at the app's
first-launch size with the training dock opened as a user opens it, the sample grid, the canvas
rendering, the set-up preview and a pinned frame are at least 256 px tall, whole (aspect kept, not
a cropped slice), and the window stays inside the screen. Each screen size runs in a process of its
own (tests/desktop/screen_probe.py) whose offscreen screen has that size. Also: a larger view is
one click away, chart legends never cover titles, an axis with one step looks sane."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.qimage import rgb_to_qimage
from desktop.training.charts import LineChart
from desktop.training.monitor import MonitorView

REPO = Path(__file__).resolve().parents[2]
MIN_PICTURE_PX = 256


def probe(tmp_path: Path, width: int, height: int) -> dict:
    config = tmp_path / f"screen-{width}x{height}.json"
    config.write_text(json.dumps({"screens": [{"name": f"s{width}", "x": 0, "y": 0, "width": width,
                                                "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                                "dpr": 1}]}))
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    done = subprocess.run([sys.executable, str(REPO / "tests" / "desktop" / "screen_probe.py")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("PROBE ")), None)
    assert done.returncode == 0 and line is not None, done.stderr[-3000:]
    return json.loads(line[len("PROBE "):])


def whole_and_in_aspect(shown: list[int], image: list[int], view: list[int]) -> bool:
    x, y, w, h = shown
    inside = x >= 0 and y >= 0 and x + w <= view[0] and y + h <= view[1]
    return inside and abs(w / h - image[0] / image[1]) < 0.02


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_monitor_pictures_are_readable_at_the_first_launch_size(tmp_path: Path, size: tuple[int, int]) -> None:
    got = probe(tmp_path, *size)
    sx, sy, sw, sh = got["screen"]
    assert (sw, sh) == size
    # Opening the dock did not grow the window past the screen (status bar on screen).
    x, y, w, h = got["window"]
    assert sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh, got
    for name in ("sample", "canvas"):
        shown = got[name]
        assert shown[3] >= MIN_PICTURE_PX, (name, got)
        assert whole_and_in_aspect(shown, got[f"{name}_image"], got[f"{name}_view_size"]), (name, got)
    assert got["setup_preview"][1] >= MIN_PICTURE_PX, got
    assert got["pinned_icon"][1] >= MIN_PICTURE_PX and got["pinned_visible_height"] >= got["pinned_icon"][1], got


def test_a_larger_view_is_one_click_away(qtbot) -> None:
    monitor = MonitorView()
    qtbot.addWidget(monitor)
    monitor.resize(1200, 360)
    monitor.show()
    qtbot.waitExposed(monitor)
    grid = np.random.default_rng(0).integers(0, 255, size=(4 * 64, 3 * 64, 3), dtype=np.uint8)
    monitor.show_image("sample", 20, rgb_to_qimage(grid))
    view = monitor.sample_view
    qtbot.waitUntil(lambda: not view.shown_rect().isEmpty(), timeout=5000)
    with qtbot.waitSignal(view.enlarged, timeout=5000) as opened:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.shown_rect().center())
    popup = opened.args[0]
    qtbot.waitExposed(popup)
    assert popup.shown_size.height() > view.shown_rect().height()
    assert popup.windowTitle() == "Samples at step 20: input | output | target"
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not popup.isVisible(), timeout=5000)


@pytest.mark.parametrize("width", [240, 330, 600])
def test_chart_legends_never_cover_the_title(qtbot, width: int) -> None:
    chart = LineChart("Realism: FCN mIoU on validation ↑")
    for name, color in (("generated", "#8e44ad"), ("real photos", "#7f8c8d"), ("D_fake", "#c0392b")):
        chart.add_curve(name, color)
        chart.append(name, 92, 0.4123)
        chart.append(name, 93, 0.4567)
    qtbot.addWidget(chart)
    chart.resize(width, 200)
    chart.show()
    qtbot.waitExposed(chart)
    title, entries, top = chart.header_layout()
    assert len(entries) == 3
    for entry in entries:
        assert not entry.intersects(title), (title, entry)
        assert entry.bottom() <= top  # above the plot
        assert entry.right() <= width
    for a, b in zip(entries, entries[1:], strict=False):
        assert not a.intersects(b)
    chart.grab()  # paints with that layout


def test_an_axis_with_one_step_has_whole_step_ticks_and_the_point_inside(qtbot) -> None:
    chart = LineChart("Realism")
    chart.add_curve("generated", "#8e44ad")
    chart.append("generated", 92, 0.41)
    qtbot.addWidget(chart)
    x_range = chart.x_range()
    assert x_range is not None
    low, high = x_range
    assert low < 92 < high  # not on the edge of a zero-width axis
    ticks = chart.x_ticks()
    assert 92 in ticks and all(float(t).is_integer() for t in ticks)
    chart.append("generated", 93, 0.45)
    assert chart.x_ticks() == [92, 93]  # not 92.2, 92.4, ...
