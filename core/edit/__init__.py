"""Edit a real photo: only what you repaint changes (issue 19 §4).

    from core.edit import PhotoEditor
    editor = PhotoEditor.load("photo-edit")                 # or "paste"
    result = editor.render(photo, original_ids, edited_ids)  # EditResult: image, mask, region, ...

core.edit.editor: the editor and its two renderers; core.edit.masks: the edited region, its
dilation and the feathered blend; core.edit.training: random holes and losses for training the
photo-edit generator (used by core.train.loop).
"""

from core.edit.editor import RENDERERS, EditError, EditResult, PasteRenderer, PhotoEditor, PhotoEditRenderer, Renderer

__all__ = ["RENDERERS", "EditError", "EditResult", "PasteRenderer", "PhotoEditRenderer", "PhotoEditor", "Renderer"]
