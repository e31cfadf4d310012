"""Errors the user can fix. The CLI turns them into one line on stderr and exit code 2;
the GUI turns them into a message box. Anything else is a bug (exit code 1)."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A problem with the user's input (file, folder, setting), with a message fit to show them."""


class BadFileError(UserError):
    """A file that cannot be used; the message always names the file."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class CheckpointError(BadFileError):
    """A checkpoint that is missing, corrupt, of the wrong kind or unsafe to load."""


class ConfigError(UserError):
    """An invalid setting; the message names the setting and the allowed values."""
