"""The history tab: every run the RunRegistry knows (the runs folder, folders runs were opened
from, folders added with *Open run folder…*; from the panel or the CLI — any folder with a
config.toml), to reopen their curves and samples or resume them. The listing arrives from a
background task; this widget only shows it."""

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
    open_folder_requested = Signal()  # *Open run folder…* was clicked

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
        self.refresh_button.setToolTip("Read the folders again now (they are also re-read every few seconds)")
        self.open_folder_button = QPushButton("Open run folder…")
        self.open_folder_button.setToolTip("Add a folder of runs (or one run, e.g. one trained with roadstudio-cli) "
                                           "to this list; it is remembered")
        self.open_folder_button.clicked.connect(self.open_folder_requested)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show this run's curves, samples and checkpoints")
        self.resume_button = QPushButton("Resume training")
        self.resume_button.setToolTip("Continue from the run's last checkpoint (step, epoch, "
                                      "learning rate and random state exactly)")
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.resume_button.clicked.connect(self._on_resume_clicked)
        row.addWidget(self.refresh_button)
        row.addWidget(self.open_folder_button)
        row.addStretch(1)
        row.addWidget(self.open_button)
        row.addWidget(self.resume_button)
        layout.addLayout(row)
        self._runs: list[RunSummary] = []
        self._busy = False
        self._on_list_selection_changed()

    def set_runs_folder(self, folder: Path) -> None:
        self.set_places([folder])

    def set_places(self, places: list[Path]) -> None:
        """The folders the list comes from: the runs folder first, then remembered ones."""
        text = f"Runs in {places[0]}" if places else "Runs"
        if len(places) > 1:
            text += f" and {len(places) - 1} other folder{'s' if len(places) > 2 else ''}"
        self.folder_label.setText(text + " — runs started from roadstudio-cli appear here too, live while they train")
        self.folder_label.setToolTip("\n".join(str(p) for p in places))

    def set_runs(self, runs: list[RunSummary]) -> None:
        selected = self.selected_run()
        self._runs = list(runs)
        self.list.clear()
        for run in self._runs:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.modified)) if run.modified else "?"
            step = f"step {run.last_step}" if run.last_step is not None else "no checkpoint"
            if run.status == "training" and run.logged_step is not None:
                step = f"step {run.logged_step}"
            status = f" · {run.status}" if run.status else ""
            resumable = "" if run.resumable or run.status == "training" else " · not resumable"
            item = QListWidgetItem(f"{run.name}    {step}{status} · {when}{resumable}")
            item.setData(Qt.ItemDataRole.UserRole, str(run.path))
            item.setToolTip(f"{run.path}\n{run.status or 'status unknown'}")
            self.list.addItem(item)
        if not self._runs:
            placeholder = QListWidgetItem("No runs yet. Start one from Set-up, or with roadstudio-cli train "
                                          "(then Open run folder… if it is elsewhere).")
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
        # A run another process trains now cannot be resumed here as well (two writers, one run).
        self.resume_button.setEnabled(run is not None and run.resumable and not self._busy
                                      and run.status != "training")

    def _on_open_clicked(self) -> None:
        run = self.selected_run()
        if run is not None and not self._busy:
            self.open_requested.emit(str(run.path))

    def _on_resume_clicked(self) -> None:
        run = self.selected_run()
        if run is not None and run.resumable:
            self.resume_requested.emit(str(run.path))
