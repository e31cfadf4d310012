"""The history tab: earlier runs in the runs folder (from the panel or the CLI — any folder with a
config.toml), to reopen their curves and samples or resume them. The folder listing arrives
from a background task; this widget only shows it."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from desktop.training.run_files import RunSummary


class HistoryView(QWidget):
    refresh_requested = Signal()
    open_requested = Signal(str)  # run folder: show its curves, samples and checkpoints
    resume_requested = Signal(str)  # run folder: continue training from checkpoints/last.pt

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.folder_label = QLabel()
        self.folder_label.setWordWrap(True)
        layout.addWidget(self.folder_label)
        self.list = QListWidget()
        self.list.itemSelectionChanged.connect(self._on_list_selection_changed)
        self.list.itemDoubleClicked.connect(lambda _item: self._on_open_clicked())
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show this run's curves, samples and checkpoints")
        self.resume_button = QPushButton("Resume training")
        self.resume_button.setToolTip("Continue from the run's last checkpoint (step, epoch, "
                                      "learning rate and random state exactly)")
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.resume_button.clicked.connect(self._on_resume_clicked)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        row.addWidget(self.open_button)
        row.addWidget(self.resume_button)
        layout.addLayout(row)
        self._runs: list[RunSummary] = []
        self._busy = False
        self._on_list_selection_changed()

    def set_runs_folder(self, folder: Path) -> None:
        self.folder_label.setText(f"Runs in {folder} (runs started from roadstudio-cli appear here too)")

    def set_runs(self, runs: list[RunSummary]) -> None:
        selected = self.selected_run()
        self._runs = list(runs)
        self.list.clear()
        for run in self._runs:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.modified)) if run.modified else "?"
            step = f"step {run.last_step}" if run.last_step is not None else "no checkpoint"
            resumable = "" if run.resumable else " · not resumable"
            item = QListWidgetItem(f"{run.name}    {step} · {when}{resumable}")
            item.setData(Qt.ItemDataRole.UserRole, str(run.path))
            item.setToolTip(str(run.path))
            self.list.addItem(item)
        if not self._runs:
            placeholder = QListWidgetItem("No runs yet. Start one from Set-up, or with roadstudio-cli train.")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(placeholder)
        if selected is not None:
            self.select_run(selected.path)
        self._on_list_selection_changed()

    def runs(self) -> list[RunSummary]:
        return list(self._runs)

    def select_run(self, path: Path) -> bool:
        for row, run in enumerate(self._runs):
            if run.path == path:
                self.list.setCurrentRow(row)
                return True
        return False

    def selected_run(self) -> RunSummary | None:
        row = self.list.currentRow()
        if 0 <= row < len(self._runs) and self.list.currentItem() is not None \
                and self.list.currentItem().isSelected():
            return self._runs[row]
        return None

    def set_busy(self, busy: bool) -> None:
        """While a run trains, opening or resuming another one is not possible (the monitor shows
        the run in training)."""
        self._busy = busy
        self._on_list_selection_changed()

    def _on_list_selection_changed(self) -> None:
        run = self.selected_run()
        # One run at a time in the monitor: while one trains, others cannot be opened over it.
        self.open_button.setEnabled(run is not None and not self._busy)
        self.resume_button.setEnabled(run is not None and run.resumable and not self._busy)

    def _on_open_clicked(self) -> None:
        run = self.selected_run()
        if run is not None and not self._busy:
            self.open_requested.emit(str(run.path))

    def _on_resume_clicked(self) -> None:
        run = self.selected_run()
        if run is not None and run.resumable:
            self.resume_requested.emit(str(run.path))
