"""Every dialog that asks or tells the user something goes through these functions, so tests can
replace them (monkeypatch) and the non-interactive modes (`--screenshot`, the headless preview)
can turn them into lines on stderr instead of blocking on a modal box."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from enum import Enum
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from core.errors import UserError

#: When set, errors are passed here instead of shown in a box (non-interactive modes).
_error_sink: Callable[[str, str], None] | None = None


class UnsavedChoice(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def set_error_sink(sink: Callable[[str, str], None] | None) -> None:
    """Route `show_error` to `sink(title, text)` (None restores message boxes)."""
    global _error_sink
    _error_sink = sink


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    if _error_sink is not None:
        _error_sink(title, text)
        return
    QMessageBox.critical(parent, title, text)


def show_user_error(parent: QWidget | None, title: str, exc: UserError) -> None:
    """A user error (bad file, bad checkpoint): its message names the file and the reason."""
    show_error(parent, title, str(exc))


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    if _error_sink is not None:
        return
    QMessageBox.information(parent, title, text)


def ask_unsaved_changes(parent: QWidget | None, document_name: str) -> UnsavedChoice:
    if _error_sink is not None:
        return UnsavedChoice.DISCARD
    answer = QMessageBox.warning(
        parent, "Unsaved changes",
        f"“{document_name}” has changes that are not saved.\nSave them first?",
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save,
    )
    if answer == QMessageBox.StandardButton.Save:
        return UnsavedChoice.SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return UnsavedChoice.DISCARD
    return UnsavedChoice.CANCEL


def ask_restore_recovery(parent: QWidget | None, description: str) -> bool:
    """Offer to restore the scene an earlier session left behind (crash or kill)."""
    if _error_sink is not None:
        return False
    answer = QMessageBox.question(
        parent, "Restore unsaved scene?",
        f"Road Studio did not close normally last time.\n{description}\n\nRestore that scene?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_open_as_photo(parent: QWidget | None, file_name: str) -> bool:
    """A file opened as a label map looks like a photo: segment it instead? (No box in the
    non-interactive modes: there it is not offered.)"""
    if _error_sink is not None:
        return False
    answer = QMessageBox.question(
        parent, "Open as a photo?",
        f"{file_name} looks like a photo, not a label map. Segment it and open its labels?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def install_excepthook(parent_getter: Callable[[], QWidget | None]) -> None:
    """Show unexpected errors in a dialog (with the traceback under "details") instead of
    letting Qt abort the process; the traceback also goes to stderr for bug reports."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        print(text, file=sys.stderr)
        if isinstance(exc, UserError):
            show_error(parent_getter(), "Road Studio", str(exc))
            return
        if _error_sink is not None:
            _error_sink("Unexpected error", f"{exc_type.__name__}: {exc}")
            return
        box = QMessageBox(parent_getter())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Unexpected error")
        box.setText(f"Something went wrong: {exc_type.__name__}: {exc}\n\n"
                    "Your scene is kept; save it to be safe. Please report this with the details.")
        box.setDetailedText(text)
        box.exec()

    sys.excepthook = hook
