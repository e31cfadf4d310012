"""Edit a real photo: only what you repaint changes (issue 19 §4).

    from core.edit import PhotoEditor
    editor = PhotoEditor.load()                             # "clone"; or "photo-edit", "paste"
    result = editor.render(photo, original_ids, edited_ids)  # EditResult: image, mask, region, ...

core.edit.editor: the editor and its three renderers; core.edit.clone: the clone fill;
core.edit.masks: the edited region, its dilation and the feathered blend; core.edit.training:
random holes and losses for training the photo-edit generator (used by core.train.loop).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.edit.editor import (
        RENDERERS, CloneRenderer, EditError, EditResult, PasteRenderer, PhotoEditor, PhotoEditRenderer, Renderer,
    )

__all__ = ["RENDERERS", "CloneRenderer", "EditError", "EditResult", "PasteRenderer", "PhotoEditRenderer", "PhotoEditor",
           "Renderer"]


def __getattr__(name: str) -> Any:
    # Lazily: the app's window imports core.edit.record (provenance, no torch) before torch is
    # loaded; the editor (torch) is imported on first use of these names.
    if name in __all__:
        from core.edit import editor

        return getattr(editor, name)
    raise AttributeError(f"module 'core.edit' has no attribute {name!r}")
