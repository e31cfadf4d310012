"""Find the bundled resources (default model, segmenter, sample scenes) wherever Road Studio runs.

The repository keeps them in its top-level ``resources/`` folder. An installed wheel carries the same
folder as the package ``roadstudio_resources`` (setup.py maps the folder to that name), and the
PyInstaller bundle copies it to ``sys._MEIPASS/resources`` (build.spec). The lookup, in order:

1. frozen (PyInstaller): ``sys._MEIPASS/resources``;
2. a source checkout (run from the tree with PYTHONPATH, or an editable install): the ``resources/``
   beside ``core/``. This comes before the installed package so that a checkout always uses its own
   files, even in an interpreter that has another checkout installed in editable mode;
3. an installed wheel: ``importlib.resources.files("roadstudio_resources")``.
"""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path

#: The import name under which a wheel installs the repository's resources/ folder (see setup.py).
RESOURCES_PACKAGE = "roadstudio_resources"

_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]  # core/io/resources.py -> the checkout


def _checkout_resources() -> Path | None:
    # pyproject.toml marks a source checkout; an installed core/ sits in site-packages, which has none.
    if (_CHECKOUT_ROOT / "pyproject.toml").is_file() and (_CHECKOUT_ROOT / "resources").is_dir():
        return _CHECKOUT_ROOT / "resources"
    return None


def resources_dir() -> Path:
    """The folder that holds models/ and samples/ (it may be missing from a broken install)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    checkout = _checkout_resources()
    if checkout is not None:
        return checkout
    try:
        installed = importlib.resources.files(RESOURCES_PACKAGE)
    except ModuleNotFoundError:
        # Neither a checkout nor a complete install: callers report the missing file by its path.
        return _CHECKOUT_ROOT / "resources"
    # Wheels install unpacked, so the package is a real folder (str() of a zip member would not be).
    return Path(str(installed))


def resource_path(*parts: str) -> Path:
    """Path of a file under resources/, e.g. resource_path("models", "default.safetensors")."""
    return resources_dir().joinpath(*parts)
