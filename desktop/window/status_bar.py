"""The status bar: cursor position, class under the cursor, zoom, model + last inference."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from core.labels import class_by_id
from desktop.preview.worker import ModelInfo

NO_MODEL_TEXT = "No model loaded — Model ▸ Load checkpoint…"


class StudioStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.position = QLabel("", self)
        self.label_class = QLabel("", self)
        self.zoom = QLabel("100 %", self)
        self.inference = QLabel("", self)
        self.model = QLabel(NO_MODEL_TEXT, self)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # indeterminate: model loading has no measurable progress
        self.busy.setMaximumWidth(90)
        self.busy.setVisible(False)
        self.position.setMinimumWidth(90)
        self.label_class.setMinimumWidth(110)
        for w in (self.position, self.label_class, self.zoom, self.inference, self.busy, self.model):
            self.addPermanentWidget(w)
        self.set_model(None)

    def set_cursor(self, x: int, y: int, label_id: int | None) -> None:
        if label_id is None or x < 0 or y < 0:
            self.position.setText("")
            self.label_class.setText("")
            return
        self.position.setText(f"x {x}, y {y}")
        try:
            name = class_by_id(label_id).name
        except KeyError:
            name = "?"
        self.label_class.setText(f"{label_id} {name}")

    def set_zoom(self, factor: float) -> None:
        self.zoom.setText(f"{factor * 100:.0f} %")

    def set_inference(self, latency_s: float | None, device: str | None, backend: str | None = None) -> None:
        if latency_s is None:
            self.inference.setText("")
            return
        text = f"{latency_s * 1000:.0f} ms on {device or '?'}"
        self.inference.setText(f"{text} ({backend})" if backend else text)
        self.inference.setToolTip("Time of the last preview inference, on the inference worker thread")

    def set_model(self, info: ModelInfo | None, *, loading: str | None = None) -> None:
        if loading:
            self.model.setText(f"Loading {loading}…")
            self.model.setStyleSheet("")
            self.busy.setVisible(True)
            return
        self.busy.setVisible(False)
        if info is None:
            self.model.setText(NO_MODEL_TEXT)
            self.model.setStyleSheet("color: #b45309; font-weight: bold;")
        else:
            self.model.setText(f"Model: {info.name}")
            self.model.setToolTip(str(info.path))
            self.model.setStyleSheet("")
