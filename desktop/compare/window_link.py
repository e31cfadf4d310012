"""Puts the compare panel into the main window: it takes the place of the generated image on the
right of the canvas (View ▸ Compare A/B, Ctrl+Alt+4) and follows the painting, the canvas model,
the variation seed and the training run's new checkpoints. Kept out of main_window.py so the
window stays a list of parts and their wiring.

The link never sees the window as a whole: it gets the few parts it replaces or asks (the
splitter slot of the generated image, the scene, the model picker's source_for, the runs folder)
and the window connects its signals to the link's `on_*` slots.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QSplitter, QStackedWidget, QWidget

from core.train.events import CheckpointSaved
from desktop.compare.controller import CompareController, LabelsSource
from desktop.compare.panel import ComparePanel, SourceFor
from desktop.compare.view import CompareMode
from desktop.preview.worker import ModelInfo, ModelSource


class CompareLink(QObject):
    activated = Signal(bool)

    def __init__(self, window: QMainWindow, view_menu: QMenu, device: str, *, splitter: QSplitter,
                 preview_panel: QWidget, scene: LabelsSource, source_for: SourceFor,
                 runs_dir: Callable[[], Path]) -> None:
        super().__init__(window)
        self._preview_panel = preview_panel
        self._runs_dir = runs_dir
        self.controller = CompareController(scene, device=device, parent=self)
        self.panel = ComparePanel(self.controller, source_for=source_for)
        self.stack = QStackedWidget(window)
        self.stack.setObjectName("preview_stack")
        splitter.replaceWidget(splitter.indexOf(preview_panel), self.stack)
        self.stack.addWidget(preview_panel)
        self.stack.addWidget(self.panel)
        self.action = QAction("&Compare A/B", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+Alt+4"))
        self.action.setStatusTip("Render the painting with two generators: side by side, swipe, difference, critic map")
        self.action.toggled.connect(self.set_active)
        window.addAction(self.action)
        view_menu.addAction(self.action)

    @property
    def active(self) -> bool:
        return self.stack.currentWidget() is self.panel

    def set_active(self, on: bool) -> None:
        if on == self.active:
            self.action.setChecked(on)
            return
        self.stack.setCurrentWidget(self.panel if on else self._preview_panel)
        self.action.setChecked(on)
        if on:
            self.panel.set_runs_dir(self._runs_dir())
            self.controller.refresh()
        self.activated.emit(on)

    def show_compare(self, a: ModelSource, b: ModelSource | None, mode: CompareMode = "side") -> None:
        """Command line and tests: A and B chosen, the view picked, the panel shown."""
        self.set_active(True)
        self.panel.set_mode(mode)
        self.panel.set_source("A", a)
        if b is not None:
            self.panel.set_source("B", b)
        if a.path.parent.name == "checkpoints":  # A is a run's checkpoint: scrub over that run
            self.panel.set_run(a.path.parent.parent, select=a.path)

    def on_canvas_model_loaded(self, info: ModelInfo) -> None:
        """The canvas's preview loaded a model: offered as a source, and side A when A is empty."""
        source = ModelSource(path=info.path)
        self.panel.set_canvas_model(source)
        if self.controller.source("A") is None:
            self.panel.set_source("A", source)

    def on_painting_changed(self) -> None:
        if self.active:
            self.controller.refresh()

    def on_training_event(self, event: object) -> None:
        """A run's new checkpoint: stale renders of rewritten files are dropped, the scrubber grows."""
        if not isinstance(event, CheckpointSaved):
            return
        for path in (event.weights_path, event.state_path):
            if path and Path(path).name.startswith(("last.", "best.")):
                self.controller.forget_checkpoint(path)  # rewritten in place: its renders are stale
        folder = Path(event.weights_path).parent.parent
        if self.panel.run_dir == folder and self.active:
            at_end = self.panel.step_slider.value() == self.panel.step_slider.maximum()
            self.panel.set_run(folder, step_index=None if at_end else self.panel.step_slider.value())

    def stop(self) -> None:
        self.panel.shutdown()
        self.controller.stop()
