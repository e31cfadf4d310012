"""Fixtures for the app tests (main window, files, preview). Imported by test_app*/test_preview*/
test_files*/test_main_window* modules: `from tests.desktop.app_helpers import *`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QApplication

from core.checkpoints import save_weights
from core.config import GeneratorConfig
from core.models import build_generator
from desktop import messages, settings

__all__ = ["isolated_home", "tiny_checkpoint", "no_leaked_windows", "error_boxes", "make_window",
           "scene_ids", "TINY_CONFIG"]

TINY_CONFIG = GeneratorConfig(depth=3, ngf=4)


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings and recovery files under tmp_path, never the user's real ones."""
    home = tmp_path / "home"
    monkeypatch.setenv(settings.HOME_ENV, str(home))
    settings.isolate(home)
    yield home
    settings._home_override = None  # noqa: SLF001 - undo isolate() for the next test


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = build_generator(TINY_CONFIG)
    return save_weights(tmp_path / "tiny.safetensors", model, TINY_CONFIG,
                        card={"step": 123, "data": "unit test"})


@pytest.fixture
def error_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every message box the app would show, as (title, text), instead of a modal box."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(messages, "show_error", lambda parent, title, text: shown.append((title, text)))
    return shown


@pytest.fixture
def no_leaked_windows(qapp: QApplication) -> Iterator[None]:
    """Fail when a test leaves a visible top-level widget behind (a window not closed)."""
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    qapp.processEvents()
    leaked = [w for w in qapp.topLevelWidgets() if id(w) not in before and w.isVisible()]
    for w in leaked:
        w.close()
    assert not leaked, f"leaked top-level widgets: {[type(w).__name__ for w in leaked]}"


def scene_ids(h: int = 32, w: int = 64) -> np.ndarray:
    """A small street-like label map: sky, building, road."""
    ids = np.full((h, w), 7, dtype=np.uint8)  # road
    ids[: h // 4] = 23  # sky
    ids[h // 4 : h // 2] = 11  # building
    ids[h // 2 : h // 2 + 3, : w // 3] = 8  # sidewalk
    return ids


@pytest.fixture
def make_window(qtbot, isolated_home: Path, no_leaked_windows: None):  # noqa: ANN001, ANN201
    """Factory for main windows on the CPU; each is shut down (worker joined) after the test.

    A modal box would hang an offscreen test, so until a test patches them, error boxes are
    collected (and fail the test) and questions answer "discard" / "don't restore"."""
    from desktop.main_window import MainWindow

    made: list[MainWindow] = []
    unexpected: list[tuple[str, str]] = []
    messages.set_error_sink(lambda title, text: unexpected.append((title, text)))

    def factory() -> MainWindow:
        window = MainWindow(device="cpu")
        qtbot.addWidget(window)
        made.append(window)
        return window

    yield factory
    messages.set_error_sink(None)
    for window in made:
        window.shutdown()
        window.hide()
    assert not unexpected, f"unexpected error boxes: {unexpected}"
