"""Shared desktop test fixtures: real Qt mouse events for the canvas, and the app's fixtures
(main windows on the CPU, isolated settings, a tiny checkpoint, collected error boxes, leak check).

QTest.mouseMove cannot hold a button down while moving, so drags are sent as real QMouseEvents
through QApplication.sendEvent (the same dispatch path the window system's events take).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from core.weights.checkpoints import save_weights
from core.models import build_generator
from desktop import messages, settings
from tests.desktop.app_helpers import TINY_CONFIG

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from desktop.main_window import MainWindow

Pos = tuple[float, float]


class Mouse:
    """Sends mouse events to one widget at widget coordinates."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget
        self.buttons = Qt.MouseButton.NoButton

    def _send(
        self,
        kind: QEvent.Type,
        pos: Pos,
        button: Qt.MouseButton,
        modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
    ) -> None:
        local = QPointF(*pos)
        event = QMouseEvent(kind, local, self.widget.mapToGlobal(local), button, self.buttons, modifiers)
        QApplication.sendEvent(self.widget, event)

    def press(self, pos: Pos, button: Qt.MouseButton = Qt.MouseButton.LeftButton, **kw: object) -> None:
        self.buttons |= button
        self._send(QEvent.Type.MouseButtonPress, pos, button, **kw)  # type: ignore[arg-type]  # kw: modifiers only

    def move(self, pos: Pos, **kw: object) -> None:
        self._send(QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, **kw)  # type: ignore[arg-type]  # kw: modifiers only

    def release(self, pos: Pos, button: Qt.MouseButton = Qt.MouseButton.LeftButton, **kw: object) -> None:
        self.buttons &= ~button
        self._send(QEvent.Type.MouseButtonRelease, pos, button, **kw)  # type: ignore[arg-type]  # kw: modifiers only

    def double_click(self, pos: Pos, button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
        self.buttons |= button
        self._send(QEvent.Type.MouseButtonDblClick, pos, button)

    def click(self, pos: Pos, button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
        self.press(pos, button)
        self.release(pos, button)

    def drag(self, points: Sequence[Pos], button: Qt.MouseButton = Qt.MouseButton.LeftButton, **kw: object) -> None:
        """Press at the first point, move through the rest, release at the last."""
        self.press(points[0], button, **kw)
        for p in points[1:]:
            self.move(p, **kw)
        self.release(points[-1], button, **kw)


@pytest.fixture
def mouse_for():
    """mouse_for(widget) -> Mouse sending real QMouseEvents to that widget."""
    return Mouse


# ------------------------------------------------------------------- app fixtures

@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings and recovery files under tmp_path, never the user's real ones."""
    home = tmp_path / "home"
    monkeypatch.setenv(settings.HOME_ENV, str(home))
    settings.isolate(home)
    yield home
    settings._home_override = None


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


@pytest.fixture
def make_window(qtbot: QtBot, isolated_home: Path, no_leaked_windows: None) -> Iterator[Callable[[], MainWindow]]:
    """Factory for main windows on the CPU; each is shut down (worker joined) after the test.

    A modal box would hang an offscreen test, so until a test patches them, error boxes are
    collected (and fail the test) and questions answer "discard" / "don't restore"."""
    from desktop.main_window import MainWindow  # imported late: the whole app

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
