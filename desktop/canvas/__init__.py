"""The label canvas: a Qt-free document + tools (document, geometry, tools) and the Qt view.

Importing this package (or its document/tools modules) loads no Qt; ``CanvasView`` is imported
lazily from ``desktop.canvas.view`` on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.canvas.document import LabelDocument, Rect
from desktop.canvas.tools import (
    TOOL_LABELS,
    TOOL_NAMES,
    TOOL_SHORTCUTS,
    Modifiers,
    PaintContext,
    make_tool,
    next_brush_size,
)

if TYPE_CHECKING:
    from desktop.canvas.view import CanvasView

__all__ = [
    "TOOL_LABELS",
    "TOOL_NAMES",
    "TOOL_SHORTCUTS",
    "CanvasView",
    "LabelDocument",
    "Modifiers",
    "PaintContext",
    "Rect",
    "make_tool",
    "next_brush_size",
]


def __getattr__(name: str) -> Any:
    if name == "CanvasView":
        from desktop.canvas.view import CanvasView

        return CanvasView
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
