"""ClassPalette: the 20 paintable classes with colour swatch, name and number-key hotkey.

Hotkey scheme (covers all 20 with the number row, so it works the same on every keyboard size
and leaves the letters to the tools B E F L R P I):

    1 2 3 4 5 6 7 8 9 0           road, sidewalk, building, wall, fence, pole, traffic light,
                                  traffic sign, vegetation, terrain        (train ids 0..9)
    Shift+1 … Shift+9             sky, person, rider, car, truck, bus, train, motorcycle, bicycle
                                  (train ids 10..18)
    Shift+0                       unlabeled (also what the eraser, E, paints)

i.e. palette index 1..10 on the plain digits, 11..19 on Shift+digit, index 0 (unlabeled) on Shift+0.
``PALETTE_HOTKEYS[i]`` is the QKeySequence text for ``core.labels.PALETTE[i]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush, QColor, QEnterEvent, QKeyEvent, QKeySequence, QPainter, QPaintEvent, QPalette, QShortcut,
)
from PySide6.QtWidgets import QAbstractButton, QButtonGroup, QSizePolicy, QVBoxLayout, QWidget

from core.weights import class_coverage
from core.labels import PALETTE, LabelClass

_DIGITS = "1234567890"


def _hotkey(index: int) -> str:
    if 1 <= index <= 10:
        return _DIGITS[index - 1]
    if 11 <= index <= 19:
        return "Shift+" + _DIGITS[index - 11]
    return "Shift+0"


#: QKeySequence strings, one per core.labels.PALETTE entry (same order).
PALETTE_HOTKEYS: tuple[str, ...] = tuple(_hotkey(i) for i in range(len(PALETTE)))
#: label id -> hotkey text.
HOTKEY_BY_LABEL_ID: dict[int, str] = {c.id: PALETTE_HOTKEYS[i] for i, c in enumerate(PALETTE)}

# Shifted digits on a US layout: a Shift+digit key event may arrive as one of these keys.
_SHIFTED_DIGITS = {
    Qt.Key.Key_Exclam: "1", Qt.Key.Key_At: "2", Qt.Key.Key_NumberSign: "3", Qt.Key.Key_Dollar: "4",
    Qt.Key.Key_Percent: "5", Qt.Key.Key_AsciiCircum: "6", Qt.Key.Key_Ampersand: "7",
    Qt.Key.Key_Asterisk: "8", Qt.Key.Key_ParenLeft: "9", Qt.Key.Key_ParenRight: "0",
}  # fmt: skip


def palette_index_for_key(key: int, modifiers: Qt.KeyboardModifier) -> int | None:
    """The PALETTE index a key press selects, or None (number row and keypad digits)."""
    shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
    if Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
        digit = chr(key)
    elif key in _SHIFTED_DIGITS:
        digit, shift = _SHIFTED_DIGITS[Qt.Key(key)], True
    else:
        return None
    text = ("Shift+" if shift else "") + digit
    return PALETTE_HOTKEYS.index(text)


def _hotkey_label(text: str) -> str:
    return text.replace("Shift+", "\u21e7")  # ⇧1 reads better in a narrow column


class _ClassButton(QAbstractButton):
    """One palette row: swatch, name, hotkey; checked = current class."""

    def __init__(self, label_class: LabelClass, hotkey: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label_class = label_class
        self.hotkey = hotkey
        self.setCheckable(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the palette itself takes the keys
        self.barely_seen: float | None = None  # training pixel share when the model barely saw it
        self.setToolTip(self._tooltip())
        self.setAccessibleName(label_class.name)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def _tooltip(self) -> str:
        base = f"{self.label_class.name} (label id {self.label_class.id}) — {self.hotkey}"
        if self.barely_seen is None:
            return base
        return f"{base}\n{class_coverage.warning_text(self.label_class.name, self.barely_seen)}"

    def set_barely_seen(self, share: float | None) -> None:
        """Mark this brush as one the loaded model barely saw (hatched swatch, tooltip), or clear."""
        self.barely_seen = share
        self.setToolTip(self._tooltip())
        self.update()

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance("traffic light") + 90, max(22, fm.height() + 8))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        pal = self.palette()
        rect = self.rect()
        if self.isChecked():
            painter.fillRect(rect, pal.color(QPalette.ColorRole.Highlight))
            text_color = pal.color(QPalette.ColorRole.HighlightedText)
        else:
            if self.underMouse():
                painter.fillRect(rect, pal.color(QPalette.ColorRole.AlternateBase))
            text_color = pal.color(QPalette.ColorRole.WindowText)
        side = rect.height() - 8
        swatch = QRect(rect.left() + 6, rect.top() + 4, side + 6, side)
        painter.fillRect(swatch, QColor(*self.label_class.color))
        if self.barely_seen is not None:  # hatched: the loaded model barely saw this class
            painter.fillRect(swatch, QBrush(QColor(255, 255, 255, 200), Qt.BrushStyle.BDiagPattern))
        painter.setPen(QColor(0, 0, 0, 160))
        painter.drawRect(swatch.adjusted(0, 0, -1, -1))
        painter.setPen(text_color)
        text_rect = rect.adjusted(swatch.right() + 8, 0, -6, 0)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.label_class.name)
        hint = QColor(text_color)
        hint.setAlpha(150)
        painter.setPen(hint)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                         _hotkey_label(self.hotkey))
        painter.end()

    def enterEvent(self, event: QEnterEvent) -> None:
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self.update()
        super().leaveEvent(event)


class ClassPalette(QWidget):
    """Vertical list of the 20 palette classes; the current one is highlighted.

    ``class_selected(label_id)`` is emitted only for user choices (click, hotkey);
    ``set_current_class`` updates the highlight silently, so wiring the canvas's
    ``class_picked`` to it and this signal to the canvas creates no loop.
    """

    class_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None, current_class: int = PALETTE[1].id) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._buttons: dict[int, _ClassButton] = {}
        for label_class, hotkey in zip(PALETTE, PALETTE_HOTKEYS, strict=True):
            button = _ClassButton(label_class, hotkey, self)
            self._group.addButton(button, label_class.id)
            self._buttons[label_class.id] = button
            layout.addWidget(button)
        layout.addStretch(1)
        self._current = -1
        self.set_current_class(current_class)
        self._group.idClicked.connect(self._on_group_id_clicked)
        self._shortcuts: list[QShortcut] = []

    @property
    def current_class(self) -> int:
        return self._current

    def set_current_class(self, label_id: int) -> None:
        """Highlight ``label_id`` without emitting class_selected. Ids outside the palette
        (e.g. an eyedropper pick of a non-palette class) clear the highlight."""
        blocked = self.blockSignals(True)
        try:
            self._current = int(label_id)
            button = self._buttons.get(self._current)
            if button is not None:
                button.setChecked(True)
            else:
                checked = self._group.checkedButton()
                if checked is not None:
                    self._group.setExclusive(False)
                    checked.setChecked(False)
                    self._group.setExclusive(True)
        finally:
            self.blockSignals(blocked)

    def set_model_card(self, card: Mapping[str, Any] | None) -> None:
        """Mark the brushes the loaded model barely saw in training (core.weights.class_coverage); a card
        without the record clears every mark (unknown is not the same as rare)."""
        rare = class_coverage.barely_seen(card)
        for button in self._buttons.values():
            button.set_barely_seen(rare.get(button.label_class.name))

    def barely_seen(self) -> dict[str, float]:
        """Class name -> share for the brushes marked now (tests, accessibility)."""
        return {b.label_class.name: b.barely_seen for b in self._buttons.values() if b.barely_seen is not None}

    def button_for(self, label_id: int) -> QAbstractButton:
        """The row of ``label_id`` (tests and accessibility)."""
        return self._buttons[label_id]

    def install_shortcuts(self, window: QWidget) -> list[QShortcut]:
        """Create the 20 hotkeys as window-wide QShortcuts on ``window`` (call once)."""
        for label_class, hotkey in zip(PALETTE, PALETTE_HOTKEYS, strict=True):
            shortcut = QShortcut(QKeySequence(hotkey), window)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda lid=label_class.id: self._choose(lid))
            self._shortcuts.append(shortcut)
        return list(self._shortcuts)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = palette_index_for_key(event.key(), event.modifiers())
        if index is not None:
            self._choose(PALETTE[index].id)
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            ids = [c.id for c in PALETTE]
            pos = ids.index(self._current) if self._current in ids else 0
            step = -1 if event.key() == Qt.Key.Key_Up else 1
            self._choose(ids[(pos + step) % len(ids)])
            event.accept()
            return
        super().keyPressEvent(event)

    def _choose(self, label_id: int) -> None:
        changed = label_id != self._current
        self.set_current_class(label_id)
        if changed:
            self.class_selected.emit(label_id)

    def _on_group_id_clicked(self, label_id: int) -> None:
        # The button is already checked by the click; record it and tell listeners.
        changed = label_id != self._current
        self._current = label_id
        if changed:
            self.class_selected.emit(label_id)


__all__ = ["HOTKEY_BY_LABEL_ID", "PALETTE_HOTKEYS", "ClassPalette", "palette_index_for_key"]
