"""The checkpoints tab: the run's checkpoint files with step and validation metrics, and
"Use in canvas", which hands the chosen .safetensors path to the main window."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop.training.run_files import CheckpointInfo


class CommandLine(QWidget):
    """A read-only, selectable command with a Copy button."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel(caption)
        self.edit = QLineEdit()
        self.edit.setReadOnly(True)
        self.edit.setStyleSheet("font-family: monospace;")
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self._on_copy_clicked)
        layout.addWidget(self.caption)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.copy_button)

    def set_command(self, text: str) -> None:
        self.edit.setText(text)
        self.edit.setCursorPosition(0)
        self.copy_button.setEnabled(bool(text))

    def command(self) -> str:
        return self.edit.text()

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.edit.text())


class CheckpointsView(QWidget):
    use_in_canvas_requested = Signal(str)  # path of a generator .safetensors

    COLUMNS = ["checkpoint", "step", "val L1", "PSNR", "SSIM", "file"]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self._on_use_clicked())
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.hint = QLabel("Select a checkpoint to load it into the canvas preview.")
        self.use_button = QPushButton("Use in canvas")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._on_use_clicked)
        row.addWidget(self.hint, 1)
        row.addWidget(self.use_button)
        layout.addLayout(row)
        self.tensorboard = CommandLine("TensorBoard:")
        layout.addWidget(self.tensorboard)
        self._paths: list[Path] = []

    def set_checkpoints(self, checkpoints: list[CheckpointInfo], validations: list[dict]) -> None:
        """Fill the table; validation metrics are matched to a checkpoint by step."""
        by_step = {v.get("step"): v for v in validations}
        best = next((v for v in reversed(validations) if v.get("is_best")), None)
        selected = self.selected_path()
        self.table.setRowCount(0)
        self._paths = []
        for info in reversed(checkpoints):  # newest first: the one people want is at the top
            metrics = best if info.label == "best" else by_step.get(info.step)
            marked = metrics is not None and metrics is best and info.label != "last"
            label = info.label + (" ★" if marked else "")
            step = info.step if info.step >= 0 else (metrics or {}).get("step", -1)
            values = [label, str(step) if isinstance(step, int) and step >= 0 else "–",
                      _fmt(metrics, "l1", "{:.4f}"), _fmt(metrics, "psnr", "{:.2f}"), _fmt(metrics, "ssim", "{:.3f}"),
                      info.weights_path.name]
            row = self.table.rowCount()
            self.table.insertRow(row)
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col < 5:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip(str(info.weights_path))
                self.table.setItem(row, col, item)
            self._paths.append(info.weights_path)
        if selected in self._paths:
            self.table.selectRow(self._paths.index(selected))
        self._on_table_selection_changed()

    def selected_path(self) -> Path | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self._paths[rows[0].row()]

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _on_table_selection_changed(self) -> None:
        self.use_button.setEnabled(self.selected_path() is not None)

    def _on_use_clicked(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.use_in_canvas_requested.emit(str(path))


def _fmt(metrics: dict | None, key: str, pattern: str) -> str:
    if not metrics:
        return "–"
    value = metrics.get(key)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return pattern.format(value)
    return "–"
