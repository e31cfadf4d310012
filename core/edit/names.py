"""The edit renderers' names and the default one, without importing torch (the CLI's argument
parser and the app's menus need them before any model is loaded). core.edit.editor says what
each renderer does; docs/photo_editing.md how they compare."""

from __future__ import annotations

from typing import Literal

RendererName = Literal["clone", "photo-edit", "paste"]
#: In the order menus offer them, the default first.
RENDERERS: tuple[RendererName, ...] = ("clone", "photo-edit", "paste")
#: Chosen on validation photos by looking (docs/photo_editing.md "Choosing the default"): a removed
#: car becomes the photo's own road instead of a pale patch.
DEFAULT_RENDERER: RendererName = "clone"
