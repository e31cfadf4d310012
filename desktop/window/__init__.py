"""The parts the main window (desktop/main_window.py) is built from: actions and menus, the tool
bar, the status bar, the Model menu, the class palette and the window layout."""
