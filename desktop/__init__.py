"""Road Studio desktop app (PySide6). Only GUI code lives here; maths lives in core/."""
