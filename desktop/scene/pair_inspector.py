"""Inspect a training pair: open pair N of a dataset in the canvas, with its real photo (the
target) shown under the model's output in the same view (side, overlay, swipe).

The label map becomes an untitled scene: painting on it never touches the dataset, and Save asks
for a new file. Reading the dataset (layout detection, decoding, colour snapping) runs on a
background thread; a bad folder or pair is a message naming the file.

The inspector never sees the main window as a whole: it gets the scene session, the preview
panel (which shows the photo as the target), the status bar and where the training panel's
dataset is, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
    QStatusBar, QWidget,
)

from core.errors import UserError
from desktop import messages
from desktop.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop.preview.views import PreviewPanel
    from desktop.scene.session import SceneSession


@dataclass(frozen=True)
class OpenedPair:
    ids: np.ndarray  # uint8 H×W label ids
    photo: np.ndarray  # uint8 H×W×3, the target
    split: str
    index: int
    count: int  # pairs in the split
    where: str  # the pair's file(s), from the source

    def caption(self) -> str:
        return f"Target (real photo): pair {self.index} of {self.count} in {self.split} — {self.where}"


def open_pair(folder: str | Path, split: str, index: int, direction: str = "BtoA") -> OpenedPair:
    """Read pair `index` of `split` of the dataset at `folder`. UserError naming the problem."""
    from core.data.check import split_sources
    from core.data.detect import detect_layout

    layout = detect_layout(folder)
    sources = split_sources(layout, direction)  # type: ignore[arg-type]  # AtoB/BtoA: the dialog offers no other
    if split not in sources:
        raise UserError(f"{folder}: no split {split!r} (it has {', '.join(sources) or 'none'})")
    source = sources[split]
    if not 0 <= index < len(source):
        raise UserError(f"{folder}: {split} has {len(source)} pairs; there is no pair {index}")
    ids, photo = source[index]
    return OpenedPair(ids=np.ascontiguousarray(ids, dtype=np.uint8), photo=np.ascontiguousarray(photo, dtype=np.uint8),
                      split=split, index=index, count=len(source), where=source.describe(index))


class PairDialog(QDialog):
    """Which pair: dataset folder, split, index, direction."""

    def __init__(self, parent: QWidget | None = None, folder: str = "", direction: str = "BtoA") -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a training pair")
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(folder, self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow("Dataset folder", row)
        self.split_combo = QComboBox(self)
        self.split_combo.setEditable(True)
        self.split_combo.addItems(["train", "val", "test"])
        form.addRow("Split", self.split_combo)
        self.index_spin = QSpinBox(self)
        self.index_spin.setRange(0, 10_000_000)
        form.addRow("Pair number (0 = first)", self.index_spin)
        self.direction_combo = QComboBox(self)
        self.direction_combo.addItem("B → A (label on the right, Cityscapes pix2pix)", "BtoA")
        self.direction_combo.addItem("A → B (label on the left)", "AtoB")
        self.direction_combo.setCurrentIndex(0 if direction == "BtoA" else 1)
        form.addRow("Direction (aligned A|B only)", self.direction_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[str, str, int, str]:
        return (self.folder_edit.text().strip(), self.split_combo.currentText().strip() or "train",
                self.index_spin.value(), str(self.direction_combo.currentData()))

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)


class PairInspector(QObject):
    """File ▸ Open a training pair…: loads the pair, shows labels in the canvas and the photo as
    the preview's target."""

    opened = Signal(object)  # OpenedPair, after the canvas shows it
    failed = Signal(str)

    def __init__(self, parent: QWidget, *, session: SceneSession, preview_panel: PreviewPanel, status: QStatusBar,
                 training_dataset: Callable[[], tuple[str, str]]) -> None:
        """`training_dataset()`: (folder, direction) chosen in the training panel, the likely pair."""
        super().__init__(parent)
        self._parent = parent
        self._session = session
        self._preview_panel = preview_panel
        self._status = status
        self._training_dataset = training_dataset
        self._tasks = TaskRunner(self)
        self._last = ("", "BtoA")
        self.action = QAction("Open a &training pair…", parent)
        self.action.setStatusTip("Open pair N of a dataset: its label map in the canvas, its photo beside the output")
        self.action.triggered.connect(lambda: self.ask())

    def ask(self, folder: str | None = None, direction: str | None = None) -> None:
        if folder is None and not self._last[0]:
            # The dataset chosen in the training panel (whose check report and preview grid the
            # user just looked at) is the likely one.
            folder, direction = self._training_dataset()
        dialog = PairDialog(self._parent, folder if folder is not None else self._last[0],
                            direction or self._last[1])
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.open(*dialog.values())

    def open(self, folder: str, split: str, index: int, direction: str = "BtoA") -> None:
        if not self._session.confirm_discard():
            return
        self._last = (folder, direction)
        self._status.showMessage(f"Reading pair {index} of {Path(folder).name}/{split}…", 8000)
        self._tasks.submit(lambda: open_pair(folder, split, index, direction), self._on_pair_read, self._on_pair_failed)

    def _on_pair_read(self, pair: OpenedPair) -> None:
        self._session.load_ids(pair.ids, None)  # untitled: Save never writes into the dataset
        self._preview_panel.set_target(pair.photo, pair.caption())
        self._status.showMessage(f"Opened {pair.where} (pair {pair.index} of {pair.split}); edits stay in "
                                 "this scene until you save it as a new file", 10000)
        self.opened.emit(pair)

    def _on_pair_failed(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, UserError) else f"could not open the pair ({type(exc).__name__}: {exc})"
        messages.show_error(self._parent, "Cannot open the training pair", message)
        self.failed.emit(message)

    def shutdown(self) -> None:
        self._tasks.wait()
