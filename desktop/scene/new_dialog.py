"""New scene dialog: size (default 256×512, height × width) and what to fill it with."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QSpinBox, QWidget

from core.labels import PALETTE
from desktop.scene.files import DEFAULT_SCENE_SIZE, MAX_SCENE_SIDE, MIN_SCENE_SIDE


class NewSceneDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, size: tuple[int, int] = DEFAULT_SCENE_SIZE) -> None:
        super().__init__(parent)
        self.setWindowTitle("New scene")
        self.height_box = self._side(size[0])
        self.width_box = self._side(size[1])
        self.fill = QComboBox(self)
        for c in PALETTE:
            self.fill.addItem(c.name, c.id)
        form = QFormLayout(self)
        form.addRow("Width (px)", self.width_box)
        form.addRow("Height (px)", self.height_box)
        form.addRow("Fill with", self.fill)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _side(self, value: int) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(MIN_SCENE_SIDE, MAX_SCENE_SIDE)
        box.setSingleStep(32)
        box.setValue(value)
        return box

    def values(self) -> tuple[int, int, int]:
        """(height, width, fill label id)."""
        return self.height_box.value(), self.width_box.value(), int(self.fill.currentData())
