"""The monitor's realism chart and column: shown when validations carry a realism score
(core.eval.realism), hidden for runs without one, rebuilt from a reopened run's metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from core.train.events import Validation, event_to_dict
from desktop.training.monitor import BEST_COLUMN, MonitorView
from desktop.training.run_files import read_history

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTableWidget


def _text(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None, f"no cell ({row}, {column})"
    return item.text()


def _val(step: int, l1: float, realism: float | None, best: bool) -> Validation:
    return Validation(step=step, epoch=step // 10, l1=l1, psnr=20.0, ssim=0.5, is_best=best, realism=realism,
                      realism_pixel_acc=None if realism is None else realism + 0.2,
                      realism_class_acc=None if realism is None else realism + 0.1,
                      realism_real=None if realism is None else 0.8)


def test_realism_series_over_steps_and_best_mark(qtbot) -> None:
    view = MonitorView()
    qtbot.addWidget(view)
    view.show()
    assert view.realism_chart.isHidden()
    for event in (_val(10, 0.30, 0.21, True), _val(20, 0.25, 0.35, True), _val(30, 0.20, 0.30, False)):
        view.handle_event(event)
    assert not view.realism_chart.isHidden()
    series = view.realism_chart.series("generated")
    assert series.x.tolist() == [10, 20, 30] and series.y.tolist() == [0.21, 0.35, 0.30]
    assert view.realism_chart.series("real photos").y.tolist() == [0.8, 0.8, 0.8]
    table = view.validation_table
    assert [_text(table, r, 5) for r in range(3)] == ["0.210", "0.350", "0.300"]
    # one best mark: the most realistic validation (step 20), although step 30 has the lowest L1
    assert [_text(table, r, BEST_COLUMN) for r in range(3)] == ["", "★ best", ""]
    view.reset()
    assert view.realism_chart.isHidden() and len(view.realism_chart.series("generated")) == 0


def test_run_without_realism_keeps_the_chart_hidden(qtbot) -> None:
    view = MonitorView()
    qtbot.addWidget(view)
    view.handle_event(_val(10, 0.3, None, True))
    assert view.realism_chart.isHidden()
    assert _text(view.validation_table, 0, 5) == "–"


def test_reopened_run_shows_its_realism_curve(qtbot, tmp_path: Path) -> None:
    lines = [{"kind": "started", "total_steps": 40, "steps_per_epoch": 10, "device": "cpu"}]
    lines += [event_to_dict(_val(s, 0.3, r, b)) for s, r, b in ((10, 0.2, True), (20, 0.4, True))]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    view = MonitorView()
    qtbot.addWidget(view)
    view.load_history(read_history(tmp_path))
    assert view.realism_chart.series("generated").y.tolist() == [0.2, 0.4]
    assert not view.realism_chart.isHidden()
