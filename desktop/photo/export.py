"""File ▸ Export edited photo… and File ▸ Export photo before|after… (issue 19 §4).

What is written is the photo edit on screen (the preview worker's image) with the record
`roadstudio-cli edit` writes (core.edit.record): the photo's name and SHA-256, the edit model's
and the segmenter's names and SHA-256, the renderer, and the edited label map embedded. The
write is the session's (atomic, on the file-task thread, errors shown with the file's name).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from core.edit.record import before_after_record, edit_record
from core.render import provenance
from desktop import messages, settings
from desktop.preview.controller import PreviewController, ShownPreview
from desktop.scene.session import SceneSession


def edit_provenance(shown: ShownPreview) -> provenance.Provenance:
    """The record of a shown photo edit (`shown.photo` is set)."""
    photo = shown.photo
    if photo is None:
        raise ValueError("the shown output is not a photo edit")
    edit = shown.edit
    return edit_record(
        model=shown.model.stamp() if shown.model is not None else None, renderer=shown.renderer or "",
        edited_pixels=int(edit.mask.sum()) if edit is not None else 0,
        repainted_pixels=int(edit.region.sum()) if edit is not None else 0,
        photo_name=photo.path.name, photo_sha256=photo.sha256, segmenter_name=photo.segmenter,
        segmenter_sha256=photo.segmenter_sha256, original_ids=photo.original_ids, edited_ids=shown.ids,
        device=shown.model.device if shown.model is not None else None, backend=shown.backend, notes=photo.notes)


class EditExport(QObject):
    """The two export actions, enabled while a photo edit is on screen (`update_enabled`)."""

    def __init__(self, window: QWidget, *, session: SceneSession, preview: PreviewController,
                 image: Callable[[], np.ndarray | None], file_menu: QMenu, after: QAction) -> None:
        super().__init__(window)
        self._window = window
        self._session = session
        self._preview = preview
        self._image = image  # the output on screen (the window's last_output)
        self.action = QAction("Export edited &photo…", window)
        self.action.setStatusTip("Write the edited photo as PNG, with the photo's SHA-256, the models and the "
                                 "edited label map recorded in it")
        self.action.triggered.connect(self.export_edited)
        self.before_after_action = QAction("Export photo &before|after…", window)
        self.before_after_action.setStatusTip("Write the photo and the edited photo side by side as PNG")
        self.before_after_action.triggered.connect(self.export_before_after)
        actions = file_menu.actions()
        index = actions.index(after) if after in actions else -1
        before = actions[index + 1] if 0 <= index < len(actions) - 1 else None
        for action in (self.action, self.before_after_action):
            if before is None:
                file_menu.addAction(action)
            else:
                file_menu.insertAction(before, action)
        self.update_enabled()

    def update_enabled(self) -> None:
        shown = self._preview.last_shown
        on = shown is not None and shown.photo is not None and shown.photo is self._session.photo
        self.action.setEnabled(on)
        self.before_after_action.setEnabled(on)

    def _shown(self, title: str) -> tuple[ShownPreview, np.ndarray] | None:
        shown, image = self._preview.last_shown, self._image()
        if (shown is None or shown.photo is None or shown.photo is not self._session.photo or image is None
                or image.shape[:2] != shown.photo.shape):
            messages.show_error(self._window, title, "There is no photo edit on screen: open a photo "
                                                     "(File ▸ Open photo…) and choose Output ▸ Photo edit.")
            return None
        return shown, image

    def _ask_path(self, title: str, shown: ShownPreview, suffix: str) -> Path | None:
        assert shown.photo is not None
        start = Path(str(settings.settings().value("files/last_export_dir", "") or shown.photo.path.parent))
        name, _ = QFileDialog.getSaveFileName(self._window, title, str(start / f"{shown.photo.path.stem}_{suffix}.png"),
                                              "PNG image (*.png)")
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")  # provenance lives in PNG text chunks
        if path.exists() and path.resolve() == shown.photo.path.resolve():
            messages.show_error(self._window, title, f"{path.name}: that is the photo itself; the edit is "
                                                     "written to another file, never over the photo.")
            return None
        settings.settings().setValue("files/last_export_dir", str(path.parent))
        return path

    def export_edited(self) -> None:
        title = "Export edited photo"
        got = self._shown(title)
        path = None if got is None else self._ask_path(title, got[0], "edited")
        if got is not None and path is not None:
            self._session.export(path, got[1], edit_provenance(got[0]))

    def export_before_after(self) -> None:
        title = "Export photo before|after"
        got = self._shown(title)
        path = None if got is None else self._ask_path(title, got[0], "before_after")
        if got is not None and path is not None:
            shown, image = got
            assert shown.photo is not None
            side = np.concatenate([shown.photo.rgb, image], axis=1)
            self._session.export(path, side, before_after_record(edit_provenance(shown)))
