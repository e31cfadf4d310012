"""Where the app keeps its settings and its recovery files, in one place so tests can redirect both.

Settings are an INI-format QSettings under organisation "RoadStudio", application "Road Studio".
Setting ROADSTUDIO_HOME (or calling `isolate(folder)`) puts the settings file and the app-data
folder (recovery files) under that folder: tests and the `--screenshot` subprocess use it so they
never read or write the user's real settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

ORGANIZATION = "RoadStudio"
APPLICATION = "Road Studio"
HOME_ENV = "ROADSTUDIO_HOME"

_home_override: Path | None = None


def configure_application() -> None:
    """Set the names QSettings and QStandardPaths derive their locations from."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    home = _home()
    if home is not None:
        _apply_home(home)


def isolate(folder: str | Path) -> None:
    """Redirect settings and app data to `folder` for this process (tests)."""
    global _home_override
    _home_override = Path(folder)
    _apply_home(_home_override)


def _home() -> Path | None:
    if _home_override is not None:
        return _home_override
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else None


def _apply_home(home: Path) -> None:
    (home / "settings").mkdir(parents=True, exist_ok=True)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / "settings"))


def settings() -> QSettings:
    """The app's settings (always INI, so the redirect above applies on every platform)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def data_dir() -> Path:
    """Per-user app data folder (AppDataLocation), or ROADSTUDIO_HOME/data when redirected."""
    home = _home()
    if home is not None:
        return home / "data"
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not location:  # no writable location (unusual sandbox): fall back to the home folder
        location = str(Path.home() / ".roadstudio")
    return Path(location)


def runs_dir_override() -> Path | None:
    """Training runs folder when redirected (tests), else None = the training panel's default."""
    home = _home()
    return home / "runs" if home is not None else None


def recovery_dir() -> Path:
    return data_dir() / "recovery"
