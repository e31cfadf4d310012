"""The window's QActions (menus, tool bar and shortcuts in one place) and the menus built
from them. Shortcuts are QActions, not key handlers, so they show in the menus and work
wherever focus is inside the window."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from desktop.preview.views import VIEW_MODES


def _action(window: QMainWindow, text: str, *shortcuts: QKeySequence | QKeySequence.StandardKey | str,
            tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


class StudioActions:
    def __init__(self, window: QMainWindow) -> None:
        standard = QKeySequence.StandardKey
        # File
        self.new = _action(window, "&New scene…", standard.New, tip="Start a new label map")
        self.open = _action(window, "&Open label map…", standard.Open,
                            tip="Open a labelIds PNG, a colour label map or a pix2pix A|B image")
        self.save = _action(window, "&Save", standard.Save, tip="Save the label map (label ids PNG)")
        self.save_as = _action(window, "Save &as…", standard.SaveAs,
                               tip="Save as label ids PNG or Cityscapes colour PNG")
        self.export_output = _action(window, "Export &generated image…", "Ctrl+E")
        self.export_side = _action(window, "Export &side-by-side image…", "Ctrl+Shift+E")
        self.quit = _action(window, "&Quit", standard.Quit)
        self.clear_recent = QAction("Clear recent files", window)
        # Edit
        self.undo = _action(window, "&Undo", "Ctrl+Z")
        self.redo = _action(window, "&Redo", "Ctrl+Shift+Z", "Ctrl+Y")
        # View
        self.zoom_fit = _action(window, "Zoom to &fit", "Ctrl+0")
        self.zoom_actual = _action(window, "&Actual size (100 %)", "Ctrl+1")
        self.view_group = QActionGroup(window)
        self.view_group.setExclusive(True)
        self.views: dict[str, QAction] = {}
        titles = {"side": "Side by side", "overlay": "Overlay", "swipe": "Swipe"}
        keys = {"side": "Ctrl+Alt+1", "overlay": "Ctrl+Alt+2", "swipe": "Ctrl+Alt+3"}
        for mode in VIEW_MODES:
            act = _action(window, titles[mode], keys[mode],
                          tip=f"Show the generated image: {titles[mode].lower()}")
            act.setCheckable(True)
            act.setData(mode)
            self.view_group.addAction(act)
            self.views[mode] = act
        self.views["side"].setChecked(True)
        # Help
        self.about = QAction("&About Road Studio", window)


def build_menus(window: QMainWindow, a: StudioActions) -> dict[str, QMenu]:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a.new, a.open])
    recent = file_menu.addMenu("Open &recent")
    file_menu.addSeparator()
    file_menu.addActions([a.save, a.save_as])
    file_menu.addSeparator()
    file_menu.addActions([a.export_output, a.export_side])
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([a.undo, a.redo])
    tools_menu = bar.addMenu("&Tools")
    view_menu = bar.addMenu("&View")
    view_menu.addActions([a.zoom_fit, a.zoom_actual])
    view_menu.addSeparator()
    view_menu.addActions(list(a.views.values()))
    view_menu.addSeparator()
    model_menu = bar.addMenu("&Model")
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(a.about)
    return {"file": file_menu, "recent": recent, "edit": edit_menu, "tools": tools_menu,
            "view": view_menu, "model": model_menu, "help": help_menu}
