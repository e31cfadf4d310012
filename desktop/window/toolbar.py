"""The main tool bar: painting tools, brush size, variation seed and the view switch."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QSlider, QSpinBox, QToolBar, QToolButton

#: (tool name, menu text, shortcut); names are the canvas tools' names. Short texts: the tool bar
#: must fit a 1366 px wide window with the view switch and the label opacity slider.
TOOLS: tuple[tuple[str, str, str], ...] = (
    ("brush", "&Brush", "B"),
    ("eraser", "&Eraser", "E"),
    ("fill", "&Fill", "F"),
    ("line", "&Line", "L"),
    ("rect", "&Rectangle", "R"),
    ("polygon", "&Polygon", "P"),
    ("eyedropper", "E&yedropper", "I"),
    ("remove", "Rem&ove object", "O"),
)
TOOL_TIPS: dict[str, str] = {
    "eyedropper": "Eyedropper: pick the class under the cursor (also Ctrl+click with any tool)",
    "remove": "Remove object: click an object and it takes the labels beside it "
              "(with a photo open, it disappears from the photo)",
}
MAX_SEED = 999_999


class StudioToolBar(QToolBar):
    tool_selected = Signal(str)
    brush_size_selected = Signal(int)
    variation_changed = Signal(object)  # int seed, or None for deterministic

    def __init__(self, window: QMainWindow, view_actions: list[QAction], tools_menu: QMenu) -> None:
        super().__init__("Tools", window)
        self.setObjectName("main_toolbar")  # needed for saveState/restoreState
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.tool_group = QActionGroup(self)
        self.tool_group.setExclusive(True)
        self.tool_actions: dict[str, QAction] = {}
        for name, text, key in TOOLS:
            action = QAction(text, window)
            action.setShortcut(QKeySequence(key))
            action.setCheckable(True)
            action.setToolTip(f"{TOOL_TIPS.get(name, text.replace('&', ''))} ({key})")
            action.setData(name)
            action.triggered.connect(lambda _checked=False, n=name: self.tool_selected.emit(n))
            self.tool_group.addAction(action)
            window.addAction(action)
            tools_menu.addAction(action)
            self.addAction(action)
            self.tool_actions[name] = action
        self.tool_actions["brush"].setChecked(True)

        self.addSeparator()
        self.addWidget(QLabel(" Size ", self))
        self.brush_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.brush_slider.setRange(1, 128)
        self.brush_slider.setValue(16)
        self.brush_slider.setFixedWidth(96)
        self.brush_slider.setToolTip("Brush size in pixels ([ and ] change it)")
        self.brush_slider.valueChanged.connect(self._on_brush_slider_changed)
        self.addWidget(self.brush_slider)
        self.brush_value = QLabel("16 px", self)
        self.brush_value.setMinimumWidth(44)
        self.addWidget(self.brush_value)

        self.addSeparator()
        self.addWidget(QLabel(" Variation ", self))
        self.seed = QSpinBox(self)
        self.seed.setRange(0, MAX_SEED)
        self.seed.setSpecialValueText("off")  # 0 = deterministic (dropout off)
        self.seed.setToolTip("Variation seed: 0/off renders deterministically; any other seed "
                             "re-rolls the generator's dropout noise")
        self.seed.valueChanged.connect(self._on_seed_changed)
        self.addWidget(self.seed)
        reroll = QToolButton(self)
        reroll.setText("Re-roll")
        reroll.setToolTip("New random variation")
        reroll.clicked.connect(self._on_reroll_clicked)
        self.addWidget(reroll)

        self.addSeparator()
        self.addWidget(QLabel(" View ", self))
        for action in view_actions:
            self.addAction(action)

    # ---------------------------------------------------------------------- canvas -> tool bar

    def show_tool(self, name: str) -> None:
        action = self.tool_actions.get(name)
        if action is not None:
            action.setChecked(True)

    def show_brush_size(self, size: int) -> None:
        self.brush_slider.blockSignals(True)  # no feedback loop into the canvas
        if size > self.brush_slider.maximum():
            self.brush_slider.setMaximum(size)
        self.brush_slider.setValue(size)
        self.brush_slider.blockSignals(False)
        self.brush_value.setText(f"{size} px")

    # ------------------------------------------------------------------------------- slots

    def _on_brush_slider_changed(self, value: int) -> None:
        self.brush_value.setText(f"{value} px")
        self.brush_size_selected.emit(value)

    def _on_seed_changed(self, value: int) -> None:
        self.variation_changed.emit(value or None)

    def _on_reroll_clicked(self) -> None:
        self.seed.setValue(random.randint(1, MAX_SEED))
