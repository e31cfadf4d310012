"""Edit a real photo: only what you repaint changes (issue 19 §4)."""
