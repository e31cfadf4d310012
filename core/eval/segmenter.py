"""The segmenter file and label ids out of photos.

File: `.safetensors` with the network's tensors and, in the metadata (JSON strings, like
core.weights.checkpoints): `roadstudio.format`, `roadstudio.segmenter` (SegNetConfig), `roadstudio.classes`
(the class names and primary Cityscapes label ids, in output-channel order) and `roadstudio.card`
(data, recipe, accuracy). Loading reads tensors only: it never unpickles.

Two segmenters are bundled: `segmenter.safetensors` (11 CamVid classes, the FCN-score judge) and
`segmenter19.safetensors` (the 19 brush classes, for reading label maps out of photos; issue 19).
The class list in the file decides which class set (core.eval.classes.ClassSet) a segmenter
answers with; `arch` in its config decides the network.

Working size. A photo is resized (antialiased) to keep its aspect with about `work_area` pixels
(its config; 240×320 = 76,800: 240×320 for CamVid's 360×480, 192×384 for 1:2 Cityscapes frames),
sides multiples of 16 — the scale the segmenter was trained at — and the logits are resized back
(bilinear) to the photo's own size before the argmax. So labels are always compared at the size the caller passes in.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from core.io.atomic import atomic_path
from core.errors import CheckpointError
from core.eval.classes import CAMVID11, CLASS_SETS, ClassSet, class_set_for_ids
from core.eval.segnet import MULTIPLE, ContextSegNet, RoadSegNet, SegNetConfig

FORMAT_VERSION = "1"
META_FORMAT = "roadstudio.format"
META_CONFIG = "roadstudio.segmenter"
META_CLASSES = "roadstudio.classes"
META_CARD = "roadstudio.card"

WORK_AREA = SegNetConfig.work_area  # pixels the segmenter sees per frame, unless its config says otherwise


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """torch view of a numpy array; copied when read-only (PIL's arrays), which torch cannot wrap."""
    array = np.ascontiguousarray(array)
    return torch.from_numpy(array if array.flags.writeable else array.copy())


#: Bundled segmenter files by class-set key (`roadstudio-cli eval --segmenter camvid11|city19`).
BUNDLED = {"camvid11": "segmenter.safetensors", "city19": "segmenter19.safetensors"}


def default_segmenter_path() -> Path:
    from core.io.resources import resource_path

    return resource_path("models", BUNDLED["camvid11"])


def bundled_segmenter_path(key: str) -> Path:
    """The bundled segmenter for a class-set key ("camvid11" or "city19")."""
    from core.io.resources import resource_path

    return resource_path("models", BUNDLED[key])


def resolve_segmenter(choice: str | Path | None) -> Path:
    """A `--segmenter` value: None (the FCN-score judge), a bundled key, or a file path."""
    if choice is None:
        return default_segmenter_path()
    if str(choice) in BUNDLED:
        return bundled_segmenter_path(str(choice))
    return Path(choice)


def build_network(config: SegNetConfig) -> torch.nn.Module:
    """The network a config names (RoadSegNet or ContextSegNet)."""
    if config.arch == "roadsegnet":
        return RoadSegNet(config)
    if config.arch == "context":
        return ContextSegNet(config)
    raise ValueError(f"unknown segmenter architecture {config.arch!r}")


def work_size(height: int, width: int, area: int = WORK_AREA) -> tuple[int, int]:
    """(H, W) with the aspect of height×width, about `area` pixels, sides multiples of 16."""
    scale = math.sqrt(area / float(height * width))
    return (max(MULTIPLE, round(height * scale / MULTIPLE) * MULTIPLE),
            max(MULTIPLE, round(width * scale / MULTIPLE) * MULTIPLE))


def save_segmenter(path: str | Path, model: torch.nn.Module, card: dict[str, Any] | None = None,
                   class_set: ClassSet = CAMVID11) -> Path:
    path = Path(path)
    config: SegNetConfig = model.config  # type: ignore[assignment]
    if config.num_classes != class_set.num_classes:
        raise ValueError(f"the model has {config.num_classes} outputs, the class set {class_set.key} "
                         f"{class_set.num_classes}")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    metadata = {
        META_FORMAT: FORMAT_VERSION,
        META_CONFIG: json.dumps(config.to_dict()),
        META_CLASSES: json.dumps([{"name": n, "id": i} for n, i in zip(class_set.names, class_set.ids,
                                                                        strict=True)]),
        META_CARD: json.dumps(card or {}),
    }
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=metadata)
    return path


@dataclass
class Segmenter:
    """A loaded segmenter on one device, in eval mode."""

    model: torch.nn.Module
    card: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    class_set: ClassSet = CAMVID11

    @property
    def config(self) -> SegNetConfig:
        return self.model.config  # type: ignore[return-value]

    @property
    def name(self) -> str:
        """How provenance and reports name it: the file name and its class set."""
        return f"{self.path.name if self.path else 'segmenter'} ({self.class_set.key})"

    @classmethod
    def load(cls, path: str | Path | None = None, device: str | torch.device = "cpu") -> Segmenter:
        """Load a segmenter file (default: the bundled resources/models/segmenter.safetensors)."""
        path = Path(path) if path is not None else default_segmenter_path()
        if not path.is_file():
            raise CheckpointError(path, "no such segmenter file (train one with scripts/train_segmenter.py)")
        try:
            with safe_open(str(path), framework="pt") as fh:
                meta = fh.metadata() or {}
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(path, f"not a readable .safetensors file ({exc})") from None
        if META_CONFIG not in meta:
            raise CheckpointError(path, "not a Road Studio segmenter (no segmenter config in the metadata)")
        try:
            config = SegNetConfig.from_dict(json.loads(meta[META_CONFIG]))
            classes = json.loads(meta.get(META_CLASSES, "[]"))
            card = json.loads(meta.get(META_CARD, "{}"))
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise CheckpointError(path, f"segmenter metadata is invalid ({exc})") from None
        class_set = class_set_for_ids([c.get("id") for c in classes]) if classes else None
        if class_set is None or config.num_classes != class_set.num_classes:
            known = " or ".join(f"{s.key} ({s.num_classes})" for s in CLASS_SETS.values())
            raise CheckpointError(path, f"the segmenter's classes are not a set this version knows: {known}")
        try:
            model = build_network(config)
        except ValueError as exc:
            raise CheckpointError(path, str(exc)) from None
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise CheckpointError(path, "weights do not fit the segmenter config: "
                                        + str(exc).strip().splitlines()[0][:200]) from None
        dev = torch.device(device)
        model.to(dev).eval()
        for p in model.parameters():
            p.requires_grad_(False)
        return cls(model=model, card=card, path=path, device=dev, class_set=class_set)

    def work_size(self, height: int, width: int) -> tuple[int, int]:
        """The size this segmenter looks at a height×width frame at."""
        return work_size(height, width, self.config.work_area)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """uint8/float (N, 3, H, W) RGB 0..255 -> float logits (N, classes, H, W) at the same size."""
        h, w = images.shape[-2:]
        # contiguous NCHW: a permuted (N, H, W, 3) batch would run every layer in a slower layout
        x = images.to(self.device, torch.float32).contiguous()
        size = self.work_size(h, w)
        if size != (h, w):
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        with torch.inference_mode():
            out = self.model(x)
            if self.config.tta_flip:
                out = 0.5 * (out + self.model(x.flip(-1)).flip(-1))
        if size != (h, w):
            out = F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False)
        return out

    def classes(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """uint8 (N, H, W, 3) or (H, W, 3) RGB -> uint8 class indices (N, H, W) or (H, W)."""
        batch = as_tensor(images) if isinstance(images, np.ndarray) else images
        single = batch.ndim == 3
        if single:
            batch = batch[None]
        if batch.ndim != 4 or batch.shape[-1] != 3:
            raise ValueError(f"expected uint8 (N, H, W, 3) RGB images, got shape {tuple(batch.shape)}")
        logits = self.logits(batch.permute(0, 3, 1, 2))
        # argmax over the last, contiguous dim: over dim 1 of NCHW it is ~7× slower on CPU (108 vs
        # 16 ms for 19×360×480), more than the network itself; the result is the same
        out = logits.permute(0, 2, 3, 1).contiguous().argmax(dim=-1).to("cpu", torch.uint8).numpy()
        return out[0] if single else out

    def predict_ids(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """Like classes(), as Cityscapes label ids (the primary id of each class)."""
        return self.class_set.classes_to_ids(self.classes(images))
