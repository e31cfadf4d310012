"""The open scene: which document, which file, saved or not — and every File-menu operation on it.

Kept apart from the main window (which only wires menus to these methods) and free of layout
code. Slow file work (reading and snapping a large colour map, writing a large PNG) runs on a
background thread via TaskRunner; results come back as signals on the GUI thread.
A failed open leaves the current document untouched.

Labels made from a photo (File ▸ Open photo…, desktop/photo/) replace the scene as one undoable
step: the scene before it (its document with its own undo history, file, format and photo) is
kept, and `undo_scene` brings it back. Opening or creating another painting forgets those scenes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from core.render import provenance
from core.io.atomic import describe_write_error
from core.errors import BadFileError, UserError
from core.io.imageio import NotALabelMapError
from desktop import messages, settings
from desktop.canvas.document import LabelDocument
from desktop.photo.photo_layer import PhotoSource
from desktop.scene import files
from desktop.tasks import TaskRunner


#: Scenes kept for undoing "open photo" (each holds a photo and a document with its history).
MAX_SCENE_UNDO = 4


@dataclass
class _Scene:
    """One open painting: what replacing it as an undoable step must keep."""

    document: LabelDocument
    path: Path | None
    save_format: files.SaveFormat
    photo: PhotoSource | None


class SceneSession(QObject):
    document_replaced = Signal(object)  # the new LabelDocument
    photo_offered = Signal(str)  # a file opened as a label map looks like a photo (path)
    title_changed = Signal(str)  # window title (with the unsaved-changes marker)
    status_message = Signal(str)  # one line for the status bar
    opened = Signal(object)  # files.OpenedMap, after the document was replaced
    open_failed = Signal(str)  # "<file>: <reason>"
    saved = Signal(object)  # Path
    save_failed = Signal(str)
    recent_changed = Signal()
    # From the autosave thread (queued to the GUI thread): None when the write worked, else why not.
    _autosave_result = Signal(object)

    def __init__(self, parent_widget_getter: Callable[[], QWidget | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._parent_widget = parent_widget_getter
        self.document = LabelDocument(shape=files.DEFAULT_SCENE_SIZE)
        self.path: Path | None = None  # file the scene was opened from / saved to
        self.save_format: files.SaveFormat = "ids"
        self.photo: PhotoSource | None = None  # the photo under the labels (tracing layer)
        self._undo_scenes: list[_Scene] = []
        self._redo_scenes: list[_Scene] = []
        self.recent = files.RecentFiles(settings.settings())
        self.autosaver = files.Autosaver(files.RecoveryStore(settings.recovery_dir()),
                                         on_result=self._autosave_result.emit)
        self._autosave_result.connect(self._on_autosave_result)
        self.autosave_problem: str | None = None  # why the last autosave failed, while it fails
        self.tasks = TaskRunner(self)
        self._opening: Path | None = None
        self._shown_modified: bool | None = None
        # Coalesces document notifications (many per stroke) into one title/autosave check.
        self._change_timer = QTimer(self)
        self._change_timer.setSingleShot(True)
        self._change_timer.setInterval(0)
        self._change_timer.timeout.connect(self._on_change_timer_timeout)
        self.document.add_listener(self._on_document_changed)

    # ------------------------------------------------------------------------------- naming

    @property
    def display_name(self) -> str:
        if self.path:
            return self.path.name
        if self.photo is not None:
            return f"{self.photo.path.name} (labels from photo)"
        return "Untitled scene"

    def suggested_save_name(self) -> str:
        """File name the Save dialog proposes."""
        if self.path:
            return self.path.name
        return f"{self.photo.path.stem}_labels.png" if self.photo is not None else "scene.png"

    def window_title(self) -> str:
        marker = "*" if self.document.modified else ""
        return f"{self.display_name}{marker} — Road Studio"

    # ---------------------------------------------------------------------- document changes

    def _set_document(self, ids: np.ndarray, path: Path | None, *, modified: bool = False) -> None:
        doc = LabelDocument(ids)
        if modified:
            # A restored scene is unsaved work: record it as one undoable change from blank so
            # the document reports "modified" and the user is asked before it is discarded.
            blank = LabelDocument(np.zeros_like(ids))
            blank.replace_all(ids, undoable=True)
            doc = blank
        self._undo_scenes.clear()  # another painting: the photo scenes before it are gone
        self._redo_scenes.clear()
        self._install(_Scene(doc, path, self.save_format, None))

    def _install(self, scene: _Scene) -> None:
        self.document.remove_listener(self._on_document_changed)
        self.document = scene.document
        self.path = scene.path
        self.save_format = scene.save_format
        self.photo = scene.photo
        self.document.add_listener(self._on_document_changed)
        self.document_replaced.emit(scene.document)
        self._emit_title()

    def _scene_now(self) -> _Scene:
        self.document.end_stroke()
        return _Scene(self.document, self.path, self.save_format, self.photo)

    # ------------------------------------------------------------------------ photo scenes

    def open_photo_labels(self, photo: PhotoSource) -> None:
        """Make the segmenter's labels of `photo` the scene, with the photo as its tracing layer.
        One undoable step: `undo_scene` restores the scene before it. Never saved over the photo."""
        self._undo_scenes.append(self._scene_now())
        del self._undo_scenes[:-MAX_SCENE_UNDO]
        self._redo_scenes.clear()
        doc = LabelDocument(photo.original_ids)
        doc.mark_unsaved()  # labels nobody has saved yet: closing asks first
        self._install(_Scene(doc, None, "ids", photo))
        self.autosave()
        self.status_message.emit(f"Opened photo {photo.describe()}")

    @property
    def can_undo_scene(self) -> bool:
        return bool(self._undo_scenes)

    @property
    def can_redo_scene(self) -> bool:
        return bool(self._redo_scenes)

    def undo_scene(self) -> bool:
        """Back to the scene before the last "open photo" (with its own undo history)."""
        if not self._undo_scenes:
            return False
        self._redo_scenes.append(self._scene_now())
        self._install(self._undo_scenes.pop())
        self.autosave()
        self.status_message.emit("Undid opening the photo")
        return True

    def redo_scene(self) -> bool:
        if not self._redo_scenes:
            return False
        self._undo_scenes.append(self._scene_now())
        self._install(self._redo_scenes.pop())
        self.autosave()
        return True

    def forget_redo_scenes(self) -> None:
        """A new change (stroke, undo inside the document): the scenes ahead are a dropped branch."""
        self._redo_scenes.clear()

    def _on_document_changed(self, rect: tuple[int, int, int, int]) -> None:
        self._change_timer.start()

    def _on_change_timer_timeout(self) -> None:
        self._emit_title()
        if not self.document.in_stroke:
            self.autosave()

    def stroke_finished(self) -> None:
        """After every stroke: update the title and write the recovery file."""
        self.forget_redo_scenes()
        self._emit_title()
        self.autosave()

    def autosave(self) -> None:
        if self.document.modified:
            self.autosaver.schedule(np.asarray(self.document.ids), self.path, self.save_format)
        else:
            self.autosaver.clear()

    def _on_autosave_result(self, problem: str | None) -> None:
        # Said after every failed autosave, so it stays in view while the user paints on; the
        # painting itself is untouched, only the crash copy is behind.
        if problem is not None:
            self.autosave_problem = problem
            self.status_message.emit(f"Autosave failed ({problem}): the recovery copy in "
                                     f"{self.autosaver.store.folder} is older than your painting; "
                                     "save the scene to keep it")
        elif self.autosave_problem is not None:
            self.autosave_problem = None
            self.status_message.emit("Autosave works again")

    def _emit_title(self) -> None:
        self.title_changed.emit(self.window_title())

    # -------------------------------------------------------------------------- unsaved work

    def confirm_discard(self) -> bool:
        """Ask before throwing away unsaved changes; True when it is fine to go on."""
        if not self.document.modified:
            return True
        choice = messages.ask_unsaved_changes(self._parent_widget(), self.display_name)
        if choice is messages.UnsavedChoice.CANCEL:
            return False
        if choice is messages.UnsavedChoice.DISCARD:
            return True
        return self.save_blocking()

    # ---------------------------------------------------------------------------- new / open

    def new_scene(self, height: int, width: int, fill_id: int = 0) -> None:
        self._set_document(files.blank_scene(height, width, fill_id), None)
        self.autosaver.clear()
        self.status_message.emit(f"New scene, {width}×{height}")

    def load_ids(self, ids: np.ndarray, path: Path | None, *, modified: bool = False) -> None:
        """Show an already-read label map (start-up default scene, recovery, tests)."""
        self._set_document(ids, path, modified=modified)

    def open_path(self, path: str | Path) -> None:
        """Read `path` on a background thread; the document is replaced only on success."""
        p = Path(path)
        self._opening = p
        self.status_message.emit(f"Opening {p.name}…")
        self.tasks.submit(lambda: files.open_label_map(p), self._on_open_done, self._on_open_error)

    def open_path_blocking(self, path: str | Path) -> files.OpenedMap:
        """Read and show `path` now (command line). Raises BadFileError."""
        opened = files.open_label_map(path)
        self._on_open_done(opened)
        return opened

    @property
    def busy(self) -> bool:
        return self.tasks.busy

    def _on_open_done(self, opened: files.OpenedMap) -> None:
        self._opening = None
        self._set_document(opened.ids, opened.path)
        self.save_format = "color" if opened.kind != "ids" else "ids"
        if opened.kind == "aligned":
            self.path = None  # saving must not overwrite the A|B image with a label map
            self._emit_title()
        self.autosaver.clear()
        self.recent.add(opened.path)
        self.recent_changed.emit()
        self.status_message.emit(opened.summary())
        self.opened.emit(opened)

    def _on_open_error(self, exc: BaseException) -> None:
        path, self._opening = self._opening, None
        if isinstance(exc, NotALabelMapError):
            # A photo where a label map was expected: the window offers to segment it.
            self.status_message.emit(f"{exc.path.name} looks like a photo")
            self.photo_offered.emit(str(exc.path))
            return
        if isinstance(exc, UserError):
            message = str(exc)
            if isinstance(exc, BadFileError) and exc.reason == "no such file" and path is not None:
                self.recent.remove(path)
                self.recent_changed.emit()
        else:
            message = f"{path}: could not be opened ({type(exc).__name__}: {exc})"
        self.status_message.emit(f"Could not open {path.name if path else 'file'}")
        messages.show_error(self._parent_widget(), "Cannot open label map", message)
        self.open_failed.emit(message)

    # ---------------------------------------------------------------------------------- save

    def save_to(self, path: str | Path, fmt: files.SaveFormat) -> None:
        """Write the current ids on a background thread; the document is marked saved only if
        nothing was painted meanwhile."""
        p = Path(path)
        ids = np.array(self.document.ids)
        version = self.document.version
        doc = self.document

        def done(result: Path) -> None:
            self._after_save(result, fmt, doc, version)

        self.tasks.submit(lambda: files.save_label_map(p, ids, fmt), done, self._on_save_error)

    def save_blocking(self, path: str | Path | None = None, fmt: files.SaveFormat | None = None) -> bool:
        """Save now (used when closing: the window must not go away before the file is written)."""
        target = Path(path) if path else self.path
        if target is None:
            asked = self._ask_save_path()
            if asked is None:
                return False
            target, fmt = asked
        fmt = fmt or self.save_format
        try:
            files.save_label_map(target, np.asarray(self.document.ids), fmt)
        except UserError as exc:
            self._on_save_error(exc)
            return False
        self._after_save(target, fmt, self.document, self.document.version)
        return True

    #: Set by the window: asks for (path, format) or returns None on cancel.
    ask_save_path: Callable[[], tuple[Path, files.SaveFormat] | None] | None = None

    def _ask_save_path(self) -> tuple[Path, files.SaveFormat] | None:
        return self.ask_save_path() if self.ask_save_path else None

    def _after_save(self, path: Path, fmt: files.SaveFormat, doc: LabelDocument, version: int) -> None:
        if doc is self.document:  # later saves (Ctrl+S) go to this file in this format
            self.path = path
            self.save_format = fmt
        # Painted meanwhile (or painting right now)? Then the file is not what is on screen and
        # the scene stays "modified"; mark_saved would also close the stroke in progress.
        if doc is self.document and doc.version == version and not doc.in_stroke:
            doc.mark_saved()
            self.autosaver.clear()
        self.recent.add(path)
        self.recent_changed.emit()
        self._emit_title()
        kind = "label ids" if fmt == "ids" else "colour labels"
        self.status_message.emit(f"Saved {path.name} ({kind})")
        self.saved.emit(path)

    def _on_save_error(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, UserError) else f"could not save ({type(exc).__name__}: {exc})"
        messages.show_error(self._parent_widget(), "Cannot save", message)
        self.save_failed.emit(message)

    # --------------------------------------------------------------------------------- export

    def export(self, path: str | Path, rgb: np.ndarray, record: provenance.Provenance | None = None) -> None:
        """Write a rendered image with its provenance (model, seed, label map) in PNG text chunks."""
        p = Path(path)

        def done(result: Path) -> None:
            self.status_message.emit(f"Exported {result.name}")
            self.saved.emit(result)

        self.tasks.submit(lambda: write_rendered_png(p, rgb, record), done, self._on_save_error)

    # ------------------------------------------------------------------------------ recovery

    def offer_recovery(self) -> bool:
        """At start-up: if an earlier session left unsaved work, offer to restore it."""
        recovered = self.autosaver.store.load()
        if recovered is None:
            return False
        if messages.ask_restore_recovery(self._parent_widget(), recovered.describe()):
            self.load_ids(recovered.ids, recovered.original_path, modified=True)
            self.save_format = recovered.save_format
            self.status_message.emit("Restored the unsaved scene from the last session")
            self.autosave()
            return True
        self.autosaver.clear()
        return False

    def shutdown(self, *, clean: bool) -> None:
        """Window closing. `clean`: the user saved or chose to discard, so no recovery needed."""
        self.tasks.wait()
        if clean:
            self.autosaver.clear()
        self.autosaver.shutdown()


def write_rendered_png(path: Path, rgb: np.ndarray, record: provenance.Provenance | None) -> Path:
    """core.render.provenance.write_png with the app's error form (BadFileError naming the file)."""
    try:
        return provenance.write_png(path, rgb, record)
    except OSError as exc:
        raise BadFileError(path, f"cannot be written: {describe_write_error(exc)}") from None
