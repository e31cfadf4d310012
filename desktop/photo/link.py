"""File ▸ Open photo… wired into the main window: the action, the segmenting worker, its progress
and Cancel in the status bar, the tracing layer's tool bar, and the offer to segment a photo that
was opened or dropped as a label map. Given the parts it needs, not the window.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QMainWindow, QMenu, QProgressBar, QPushButton, QStatusBar, QWidget,
)

from desktop import messages, settings
from desktop.canvas.document import LabelDocument
from desktop.canvas.view import CanvasView
from desktop.photo.controls import PhotoLayerBar
from desktop.photo.opener import DEFAULT_SEGMENTER, PhotoOpener
from desktop.photo.photo_layer import PhotoSource
from desktop.scene.session import SceneSession

PHOTO_FILE_FILTER = "Photos (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff);;All files (*)"


class _ProgressWidget(QWidget):
    """Status bar part: which stage the photo is in, and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar(self)
        self.bar.setMinimumWidth(240)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop segmenting the photo (the scene stays as it is)")
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        self.hide()

    def show_stage(self, name: str, done: int, total: int, stage: str) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.bar.setFormat(f"{name}: {stage}…")
        self.show()


class PhotoLink(QObject):
    """Signals: photo_opened(PhotoSource) once its labels are the canvas document."""

    photo_opened = Signal(object)

    def __init__(self, window: QMainWindow, *, session: SceneSession, canvas: CanvasView, status: QStatusBar,
                 file_menu: QMenu, after: QAction, view_menu: QMenu,
                 segmenter: str | Path | None = DEFAULT_SEGMENTER) -> None:
        super().__init__(window)
        self._window = window
        self._session = session
        self._canvas = canvas
        self._status = status
        self.action = QAction("Open &photo…", window)
        self.action.setShortcut(QKeySequence("Ctrl+Alt+O"))
        self.action.setStatusTip("Open a street photo: it is segmented into a label map you can edit, "
                                 "and shown under the labels")
        self.action.triggered.connect(self.ask)
        window.addAction(self.action)
        actions = file_menu.actions()
        index = actions.index(after) if after in actions else -1
        if 0 <= index < len(actions) - 1:
            file_menu.insertAction(actions[index + 1], self.action)
        else:
            file_menu.addAction(self.action)

        self.opener = PhotoOpener(segmenter, self)
        self.opener.started.connect(self._on_opener_started)
        self.opener.progressed.connect(self._on_opener_progressed)
        self.opener.opened.connect(self._on_opener_opened)
        self.opener.failed.connect(self._on_opener_failed)
        self.opener.cancelled.connect(self._on_opener_cancelled)
        self.progress = _ProgressWidget(status)
        status.addPermanentWidget(self.progress)
        self.progress.cancel_button.clicked.connect(self.opener.cancel)
        self._name = ""

        self.bar = PhotoLayerBar(window)
        # A row of its own (the main tool bar is full), shown when the first photo opens.
        window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.bar)
        self.bar.hide()
        self._bar_offered = False
        view_menu.addSeparator()
        view_menu.addAction(self.bar.toggle_action)
        photo_bar_action = self.bar.toggleViewAction()
        photo_bar_action.setText("Photo layer tool bar")
        view_menu.addAction(photo_bar_action)
        self.bar.visibility_changed.connect(canvas.set_photo_visible)
        self.bar.photo_opacity_changed.connect(canvas.set_photo_opacity)
        self.bar.label_opacity_changed.connect(canvas.set_label_opacity)
        canvas.set_photo_opacity(self.bar.photo_opacity)
        canvas.set_label_opacity(self.bar.label_opacity)

        session.photo_offered.connect(self._on_session_photo_offered)
        # Connected after the window's own slot: the canvas shows the new document by now.
        session.document_replaced.connect(self._on_session_document_replaced)

    # ------------------------------------------------------------------------------ opening
    def ask(self) -> None:
        start = str(settings.settings().value("files/last_photo_dir", ""))
        name, _ = QFileDialog.getOpenFileName(self._window, "Open photo", start, PHOTO_FILE_FILTER)
        if name:
            self.open_photo(Path(name))

    def open_photo(self, path: str | Path) -> None:
        """Segment `path` in the background; its labels become the scene when done (undoable)."""
        settings.settings().setValue("files/last_photo_dir", str(Path(path).parent))
        self.opener.open(path)

    @property
    def busy(self) -> bool:
        return self.opener.busy

    def stop(self) -> None:
        self.opener.stop()

    # -------------------------------------------------------------------------------- slots
    def _on_session_photo_offered(self, path: str) -> None:
        if messages.ask_open_as_photo(self._window, Path(path).name):
            self.open_photo(path)
        else:
            self._status.showMessage(f"Not opened: {Path(path).name} looks like a photo, not a label map "
                                     "(File ▸ Open photo… segments it)", 10000)

    def _on_session_document_replaced(self, _doc: LabelDocument) -> None:
        photo = self._session.photo
        self._canvas.set_photo(None if photo is None else photo.rgb)
        self.bar.set_photo_open(photo is not None)
        if photo is not None and not self._bar_offered:
            self._bar_offered = True
            self.bar.show()

    def _on_opener_started(self, path: str) -> None:
        self._name = Path(path).name
        self.progress.show_stage(self._name, 0, 4, "starting")
        self._status.showMessage(f"Segmenting {self._name}…")

    def _on_opener_progressed(self, done: int, total: int, stage: str) -> None:
        self.progress.show_stage(self._name, done, total, stage)

    def _on_opener_opened(self, photo: PhotoSource) -> None:
        self.progress.hide()
        self._session.open_photo_labels(photo)
        self.photo_opened.emit(photo)

    def _on_opener_failed(self, message: str) -> None:
        self.progress.hide()
        self._status.showMessage(f"Could not open the photo {self._name}", 10000)
        messages.show_error(self._window, "Cannot open photo", message)

    def _on_opener_cancelled(self, path: str) -> None:
        self.progress.hide()
        self._status.showMessage(f"Cancelled segmenting {Path(path).name}", 8000)
