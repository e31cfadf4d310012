"""`PhotoEditor`: a photo, its label map and an edited label map in; the photo out, changed only
where the labels were changed (issue 19 §4). The API the app's edit mode and `roadstudio-cli edit`
use:

    editor = PhotoEditor.load()        # the default renderer ("clone"), or "photo-edit", "paste";
                                       # model=PATH for another generator file
    result = editor.render(photo, original_ids, edited_ids)
    result.image     # uint8 H×W×3: bit-identical to `photo` outside result.region
    result.region    # bool H×W: the edited pixels (result.mask) dilated by a few pixels

Three renderers fill the region (all behind the small `Renderer` protocol):
- "photo-edit": a generator conditioned on the edited label map, the photo with the region cut
  out and the region's mask (GeneratorConfig.condition "labels+photo", trained by the preset
  photo-edit): it continues the photo's light, colour and texture into the region.
- "paste": the label-only default model renders the edited label map, and that rendering is
  pasted into the region. The plain alternative, for comparison (docs/photo_editing.md).
- "clone": the photo's own pixels of each painted class, moved in from the nearest place the photo
  shows that class (core.edit.clone); the default model's rendering where it shows none. Sharp
  and in the photo's light where it works (removing cars), a copy of something where it does not.
Each way the rendering is blended into the photo with a feathered seam (core.edit.masks).

Speed: only a crop around the region is rendered — its bounding box plus CONTEXT pixels of photo
and labels on every side, grown to the U-Net's multiple — unless that crop is most of the image
anyway. A small edit on a 256×512 photo renders a 128×256 crop.

Threads: a PhotoEditor holds one Predictor and, like it, is used from one thread at a time (the
app's edit worker). No Qt here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from core.edit.clone import clone_fill
from core.edit.names import DEFAULT_RENDERER, RENDERERS, RendererName
from core.edit.masks import EDIT_DILATION, FEATHER, Box, blend, dilate, edited_region, feather, render_box
from core.errors import UserError
from core.render.infer import MAX_SIDE, Predictor, encode_ids, pad_to_multiple, to_photo
from core.io.resources import resource_path

#: Pixels of photo and labels around the edited region that the renderer sees.
CONTEXT = 32
#: When the crop around the region covers at least this share of the (padded) image, the whole
#: image is rendered instead: one model size for every edit of the same photo.
WHOLE_IMAGE_SHARE = 0.6
#: The bundled model files each renderer uses unless given another.
DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "photo-edit": ("models", "photo_edit.safetensors"),
    "paste": ("models", "default.safetensors"),
    "clone": ("models", "default.safetensors"),
}


class EditError(UserError):
    """A photo, label map or model that cannot be edited with (the message says why)."""


class Renderer(Protocol):
    """Fills a hole: a crop of the photo, its edited labels and the hole in; a rendering of the
    whole crop out (the caller blends it into the hole)."""

    name: str
    predictor: Predictor
    #: True: given the whole photo, not a crop around the region (PhotoEditor.crop_for).
    whole_image: bool

    def render(self, photo: np.ndarray, ids: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """photo uint8 h×w×3, edited label ids uint8 h×w, hole bool h×w -> uint8 h×w×3.
        h and w need not be multiples of the model's size multiple (the renderer pads)."""
        ...


class PasteRenderer:
    """The label-only model's rendering of the edited labels (the photo and hole are not seen)."""

    name = "paste"
    whole_image = False

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    def render(self, photo: np.ndarray, ids: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return self.predictor.predict(ids)


class CloneRenderer:
    """The photo's own pixels of each painted class, moved in from where the photo shows that
    class (core.edit.clone); what the photo cannot supply is the label-only model's rendering.
    Sees the whole photo (`whole_image`): the road beside a removed car is usually further away
    than the crop's context."""

    name = "clone"
    whole_image = True

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    def render(self, photo: np.ndarray, ids: np.ndarray, hole: np.ndarray) -> np.ndarray:
        filled, done = clone_fill(photo, ids, hole)
        rest = hole & ~done
        box = render_box(rest, self.predictor.multiple, CONTEXT)  # only around what is left over
        if box is not None:
            sl = box.slices
            generated = self.predictor.predict(np.ascontiguousarray(ids[sl]))
            filled[sl][rest[sl]] = generated[rest[sl]]
        return filled


class PhotoEditRenderer:
    """A "labels+photo" generator: edited labels, the photo outside the hole, and the hole."""

    name = "photo-edit"
    whole_image = False

    def __init__(self, predictor: Predictor) -> None:
        if not predictor.config.photo_conditioned:
            raise EditError(f"{predictor.path}: not a photo-edit model (it is conditioned on "
                            f"{predictor.config.condition!r} only); use the paste renderer with it, or a model "
                            f"trained with the photo-edit preset")
        self.predictor = predictor

    def encode(self, photo: np.ndarray, ids: np.ndarray, hole: np.ndarray) -> torch.Tensor:
        """The model input (1, C + 4, H, W) for a crop padded to the model's multiple (mirrored,
        as Predictor pads label maps)."""
        mult = self.predictor.multiple
        h, w = ids.shape
        ph, pw = (-h) % mult, (-w) % mult
        if ph or pw:
            mode = "reflect" if min(h, w) > 1 and ph < h and pw < w else "edge"
            ids = pad_to_multiple(ids, mult) if mode == "reflect" else np.pad(ids, ((0, ph), (0, pw)), mode="edge")
            photo = np.pad(photo, ((0, ph), (0, pw), (0, 0)), mode=mode)  # type: ignore[call-overload]
            hole = np.pad(hole, ((0, ph), (0, pw)), mode=mode)  # type: ignore[call-overload]
        labels = encode_ids(ids, self.predictor.config.input_encoding)[0].numpy()  # (C, H, W)
        keep = (~hole).astype(np.float32)
        rgb = photo.transpose(2, 0, 1).astype(np.float32) / np.float32(127.5) - np.float32(1.0)
        x = np.concatenate([labels, rgb * keep[None], hole[None].astype(np.float32)])
        return torch.from_numpy(np.ascontiguousarray(x[None])).to(self.predictor.device)

    def render(self, photo: np.ndarray, ids: np.ndarray, hole: np.ndarray) -> np.ndarray:
        h, w = ids.shape
        y = self.predictor.forward(self.encode(photo, ids, hole))
        return to_photo(y[0, :, :h, :w])


@dataclass(frozen=True)
class EditResult:
    """What an edit render gives back."""

    image: np.ndarray = field(repr=False)  # uint8 H×W×3: the photo, changed only inside `region`
    mask: np.ndarray = field(repr=False)  # bool H×W: where the edited labels differ from the original
    region: np.ndarray = field(repr=False)  # bool H×W: `mask` dilated; outside it image == photo
    alpha: np.ndarray = field(repr=False)  # float32 H×W: the rendering's weight (feathered seam)
    box: Box | None  # the crop that was rendered; None when nothing was edited
    renderer: str  # a name of core.edit.names.RENDERERS
    backend: str  # inference path of the render (eager, onnxruntime, aoti), "" when none ran
    latency_s: float  # wall time of render()

    @property
    def changed(self) -> bool:
        return bool(self.mask.any())


def check_inputs(photo: object, original_ids: object, edited_ids: object) -> tuple[np.ndarray, np.ndarray,
                                                                                  np.ndarray]:
    """The three arrays as contiguous uint8, or EditError saying which one is wrong and how."""
    if not isinstance(photo, np.ndarray) or photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise EditError(f"the photo must be a uint8 H×W×3 RGB array, got "
                        f"{getattr(photo, 'dtype', type(photo).__name__)} {getattr(photo, 'shape', '')}")
    h, w = photo.shape[:2]
    if min(h, w) < 1 or max(h, w) > MAX_SIDE:
        raise EditError(f"the photo is {w}×{h}; edit photos of 1 to {MAX_SIDE} px a side")
    out = []
    for name, ids in (("original", original_ids), ("edited", edited_ids)):
        if not isinstance(ids, np.ndarray) or ids.ndim != 2 or ids.dtype != np.uint8:
            raise EditError(f"the {name} label map must be a uint8 H×W array of label ids, got "
                            f"{getattr(ids, 'dtype', type(ids).__name__)} {getattr(ids, 'shape', '')}")
        if ids.shape != (h, w):
            raise EditError(f"the {name} label map is {ids.shape[1]}×{ids.shape[0]}, the photo {w}×{h}; "
                            f"they must be the same size")
        out.append(np.ascontiguousarray(ids))
    return np.ascontiguousarray(photo), out[0], out[1]


class PhotoEditor:
    """Renders edits of one photo at a time with one renderer (module docstring)."""

    def __init__(self, renderer: Renderer, *, dilation: int = EDIT_DILATION, feather_px: int = FEATHER,
                 context: int = CONTEXT) -> None:
        if dilation <= feather_px:
            raise ValueError(f"dilation ({dilation}) must exceed the feather ({feather_px}): the edited "
                             f"pixels themselves must get the full rendering")
        self.renderer = renderer
        self.dilation = dilation
        self.feather_px = feather_px
        self.context = context

    @classmethod
    def load(cls, renderer: RendererName = DEFAULT_RENDERER, model: str | Path | None = None, *,
             device: str = "cpu", backend: str | None = None, interactive: bool = False,
             threads: int | None = None) -> PhotoEditor:
        """An editor with the bundled model of `renderer` (or `model`). `backend`/`interactive`/
        `threads` go to the Predictor (core.render.infer): the app passes interactive=True."""
        if renderer not in RENDERERS:
            raise EditError(f"unknown renderer {renderer!r}; choose one of {', '.join(RENDERERS)}")
        path = Path(model) if model is not None else resource_path(*DEFAULT_MODELS[renderer])
        predictor = Predictor.from_path(path, device, backend=backend, interactive=interactive, threads=threads,
                                        background_build=False)
        made: Renderer = (PhotoEditRenderer(predictor) if renderer == "photo-edit" else
                          CloneRenderer(predictor) if renderer == "clone" else PasteRenderer(predictor))
        return cls(made)

    @property
    def predictor(self) -> Predictor:
        return self.renderer.predictor

    @property
    def model_path(self) -> Path:
        return self.renderer.predictor.path

    def crop_for(self, region: np.ndarray) -> Box | None:
        """The crop rendered for `region` (None: empty region)."""
        box = render_box(region, self.predictor.multiple, self.context)
        if box is None:
            return None
        h, w = region.shape
        if self.renderer.whole_image:
            return Box(0, 0, h, w)
        ph, pw = self.predictor.padded_shape(h, w)
        if box.height * box.width >= WHOLE_IMAGE_SHARE * ph * pw:
            return Box(0, 0, h, w)
        return box

    def render(self, photo: np.ndarray, original_ids: np.ndarray, edited_ids: np.ndarray) -> EditResult:
        """The photo with the edited labels' region repainted (EditResult). EditError for arrays
        of the wrong kind or size."""
        start = time.perf_counter()
        photo, original_ids, edited_ids = check_inputs(photo, original_ids, edited_ids)
        mask = edited_region(original_ids, edited_ids)
        region = dilate(mask, self.dilation)
        box = self.crop_for(region)
        if box is None:
            return EditResult(image=photo.copy(), mask=mask, region=region, alpha=np.zeros(mask.shape, np.float32),
                              box=None, renderer=self.renderer.name, backend="",
                              latency_s=time.perf_counter() - start)
        sl = box.slices
        rendering = np.zeros_like(photo)
        rendering[sl] = self.renderer.render(photo[sl], edited_ids[sl], region[sl])
        alpha = feather(region, self.feather_px)
        image = blend(photo, rendering, region, alpha)
        return EditResult(image=image, mask=mask, region=region, alpha=alpha, box=box, renderer=self.renderer.name,
                          backend=self.predictor.last_backend, latency_s=time.perf_counter() - start)

    def close(self) -> None:
        self.predictor.close()
