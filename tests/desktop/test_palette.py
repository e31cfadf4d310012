"""ClassPalette: 20 classes, hotkeys covering all of them, clicks, no feedback loops."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.labels import PALETTE, class_by_name
from desktop.canvas.view import CanvasView
from desktop.window.palette import PALETTE_HOTKEYS, ClassPalette, palette_index_for_key


def test_hotkeys_cover_all_twenty_classes_once() -> None:
    assert len(PALETTE) == len(PALETTE_HOTKEYS) == 20
    assert len(set(PALETTE_HOTKEYS)) == 20
    assert PALETTE_HOTKEYS[PALETTE.index(class_by_name("road"))] == "1"
    assert PALETTE_HOTKEYS[PALETTE.index(class_by_name("terrain"))] == "0"
    assert PALETTE_HOTKEYS[PALETTE.index(class_by_name("sky"))] == "Shift+1"
    assert PALETTE_HOTKEYS[PALETTE.index(class_by_name("bicycle"))] == "Shift+9"
    assert PALETTE_HOTKEYS[PALETTE.index(class_by_name("unlabeled"))] == "Shift+0"
    no = Qt.KeyboardModifier.NoModifier
    shift = Qt.KeyboardModifier.ShiftModifier
    assert palette_index_for_key(Qt.Key.Key_1, no) == 1
    assert palette_index_for_key(Qt.Key.Key_1, shift) == 11
    assert palette_index_for_key(Qt.Key.Key_Exclam, shift) == 11  # US layout delivers '!' for Shift+1
    assert palette_index_for_key(Qt.Key.Key_ParenRight, shift) == 0
    assert palette_index_for_key(Qt.Key.Key_B, no) is None


def test_click_selects_and_emits_once(qtbot) -> None:
    palette = ClassPalette()
    qtbot.addWidget(palette)
    palette.show()
    car = class_by_name("car").id
    with qtbot.waitSignal(palette.class_selected) as blocker:
        qtbot.mouseClick(palette.button_for(car), Qt.MouseButton.LeftButton)
    assert blocker.args == [car]
    assert palette.current_class == car and palette.button_for(car).isChecked()


def test_number_keys_select_classes(qtbot) -> None:
    palette = ClassPalette()
    qtbot.addWidget(palette)
    picked: list[int] = []
    palette.class_selected.connect(picked.append)
    qtbot.keyClick(palette, Qt.Key.Key_3)
    qtbot.keyClick(palette, Qt.Key.Key_4, Qt.KeyboardModifier.ShiftModifier)
    assert picked == [class_by_name("building").id, class_by_name("car").id]
    assert palette.button_for(class_by_name("car").id).isChecked()


def test_set_current_class_is_silent_and_palette_canvas_wiring_does_not_loop(qtbot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    palette, canvas = ClassPalette(), CanvasView()
    layout.addWidget(palette)
    layout.addWidget(canvas)
    emitted: list[int] = []
    palette.class_selected.connect(emitted.append)
    palette.class_selected.connect(canvas.set_current_class)
    canvas.class_picked.connect(palette.set_current_class)

    sky = class_by_name("sky").id
    palette.set_current_class(sky)
    assert emitted == [] and palette.current_class == sky and palette.button_for(sky).isChecked()
    palette.set_current_class(5)  # not a palette class ("ground"): nothing highlighted
    assert all(not palette.button_for(c.id).isChecked() for c in PALETTE)

    qtbot.mouseClick(palette.button_for(sky), Qt.MouseButton.LeftButton)
    assert emitted == [sky] and canvas.current_class == sky


def test_shortcuts_work_window_wide(qtbot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    palette, canvas = ClassPalette(), CanvasView()
    layout.addWidget(palette)
    layout.addWidget(canvas)
    shortcuts = palette.install_shortcuts(host)
    assert len(shortcuts) == 20
    picked: list[int] = []
    palette.class_selected.connect(picked.append)
    host.show()
    with qtbot.waitActive(host):
        host.activateWindow()
    canvas.setFocus()
    # Keys typed while the canvas has focus still reach the palette's window shortcuts.
    qtbot.keyClick(canvas, Qt.Key.Key_2)
    qtbot.keyClick(canvas, Qt.Key.Key_2, Qt.KeyboardModifier.ShiftModifier)
    assert picked == [class_by_name("sidewalk").id, class_by_name("person").id]
