"""Shared desktop test helpers: real Qt mouse events for the canvas.

QTest.mouseMove cannot hold a button down while moving, so drags are sent as real QMouseEvents
through QApplication.sendEvent (the same dispatch path the window system's events take).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

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
        self._send(QEvent.Type.MouseButtonPress, pos, button, **kw)  # type: ignore[arg-type]

    def move(self, pos: Pos, **kw: object) -> None:
        self._send(QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, **kw)  # type: ignore[arg-type]

    def release(self, pos: Pos, button: Qt.MouseButton = Qt.MouseButton.LeftButton, **kw: object) -> None:
        self.buttons &= ~button
        self._send(QEvent.Type.MouseButtonRelease, pos, button, **kw)  # type: ignore[arg-type]

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
