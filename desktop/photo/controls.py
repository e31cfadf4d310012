"""The tracing layer's tool bar: show/hide the photo, the photo's opacity, the labels' opacity,
and what the output panel shows while a photo is open (a photo edit by either renderer, or the
usual label-only preview).

It only emits what the user chose; the window passes it to the canvas. Its actions are enabled
while a photo is open; View ▸ Photo layer holds the same toggle and the bar's own show/hide.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QToolBar, QWidget

from desktop.preview.worker import EDIT_RENDERER_TITLES

DEFAULT_PHOTO_OPACITY = 100  # percent
DEFAULT_LABEL_OPACITY = 50


def _slider(value: int, tip: str, parent: QWidget) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal, parent)
    slider.setRange(0, 100)
    slider.setValue(value)
    slider.setFixedWidth(100)
    slider.setToolTip(tip)
    return slider


class PhotoLayerBar(QToolBar):
    visibility_changed = Signal(bool)  # the user showed / hid the photo
    photo_opacity_changed = Signal(float)  # 0..1
    label_opacity_changed = Signal(float)  # 0..1
    output_changed = Signal(object)  # the edit renderer ("photo-edit", "paste", "clone"), or None: the usual preview

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Photo layer", parent)
        self.setObjectName("photo_layer_toolbar")
        self.toggle_action = QAction("Show &photo under the labels", self)
        self.toggle_action.setIconText("Show photo")
        self.toggle_action.setCheckable(True)
        self.toggle_action.setChecked(True)
        self.toggle_action.setShortcut(QKeySequence("Ctrl+Alt+P"))
        self.toggle_action.setStatusTip("Show the opened photo under the labels as a tracing layer")
        self.toggle_action.toggled.connect(self._on_toggle_action_toggled)
        self.addAction(self.toggle_action)
        self.addWidget(QLabel(" Photo opacity ", self))
        self.photo_slider = _slider(DEFAULT_PHOTO_OPACITY, "Opacity of the photo under the labels", self)
        self.photo_slider.valueChanged.connect(lambda v: self.photo_opacity_changed.emit(v / 100.0))
        self.addWidget(self.photo_slider)
        self.addWidget(QLabel(" Labels over it ", self))
        self.label_slider = _slider(DEFAULT_LABEL_OPACITY, "Opacity of the label colours over the photo", self)
        self.label_slider.valueChanged.connect(lambda v: self.label_opacity_changed.emit(v / 100.0))
        self.addWidget(self.label_slider)
        self.addSeparator()
        self.addWidget(QLabel(" Output ", self))
        self.output_combo = QComboBox(self)
        for renderer, title in EDIT_RENDERER_TITLES.items():
            self.output_combo.addItem(title, renderer)
        self.output_combo.addItem("Generated from the labels", None)
        self.output_combo.setToolTip("With a photo open: the photo changed only where you repaint its labels "
                                     "(photo-edit model, the default model pasted in, or the photo's own "
                                     "pixels of the painted class cloned in), or the usual "
                                     "rendering of the whole label map")
        self.output_combo.currentIndexChanged.connect(
            lambda index: self.output_changed.emit(self.output_combo.itemData(index)))
        self.addWidget(self.output_combo)
        self.set_photo_open(False)

    def set_photo_open(self, is_open: bool) -> None:
        """Enable the controls while a photo is open (they mean nothing without one)."""
        for widget in (self.photo_slider, self.label_slider, self.output_combo):
            widget.setEnabled(is_open)
        self.toggle_action.setEnabled(is_open)

    @property
    def output_renderer(self) -> str | None:
        """The chosen edit renderer, None for the usual preview."""
        data = self.output_combo.currentData()
        return None if data is None else str(data)

    @property
    def photo_opacity(self) -> float:
        return self.photo_slider.value() / 100.0

    @property
    def label_opacity(self) -> float:
        return self.label_slider.value() / 100.0

    def _on_toggle_action_toggled(self, checked: bool) -> None:
        self.visibility_changed.emit(checked)
