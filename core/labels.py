"""The Cityscapes class table, the painting palette and conversions between label ids,
train ids and colours.

The table is taken from torchvision (`Cityscapes.classes`), never retyped. The one canonical
label form in Road Studio is a uint8 H×W array of Cityscapes *label ids* (0..33).

The table is read from torchvision's source file as literals (`ast`), not by importing
torchvision: that import costs about 2 s of CPU (it loads every model and op), which every
`roadstudio-cli infer` process and the app's start-up would pay for one 35-row table. Should the
file ever not parse as expected, torchvision is imported after all.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IGNORE_TRAIN_ID = 255
MAX_LABEL_ID = 33  # label ids 0..33; "license plate" (-1) never appears in labelIds images


@dataclass(frozen=True)
class LabelClass:
    name: str
    id: int
    train_id: int
    category: str
    color: tuple[int, int, int]


def _torchvision_table_from_source() -> list[LabelClass] | None:
    """Cityscapes.classes as literals from torchvision/datasets/cityscapes.py, or None."""
    try:
        spec = importlib.util.find_spec("torchvision")
        if spec is None or spec.origin is None:
            return None
        source = (Path(spec.origin).parent / "datasets" / "cityscapes.py").read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.ClassDef) and node.name == "Cityscapes"):
                continue
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(getattr(t, "id", None) == "classes" for t in stmt.targets):
                    rows = [_row(call) for call in stmt.value.elts]  # type: ignore[attr-defined]
                    return rows if rows and all(rows) else None  # type: ignore[return-value]
    except (OSError, SyntaxError, ValueError, AttributeError, ImportError):
        return None
    return None


def _row(call: Any) -> LabelClass | None:
    # CityscapesClass(name, id, train_id, category, category_id, has_instances, ignore_in_eval, color)
    if not isinstance(call, ast.Call) or len(call.args) != 8 or call.keywords:
        return None
    name, id_, train_id, category, _, _, _, color = (ast.literal_eval(a) for a in call.args)
    return LabelClass(str(name), int(id_), int(train_id), str(category), tuple(int(v) for v in color))  # type: ignore[arg-type]


def _torchvision_table() -> Sequence[LabelClass]:
    rows = _torchvision_table_from_source()
    if rows is not None:
        return rows
    from torchvision.datasets import Cityscapes  # the slow, always-correct way

    return [LabelClass(c.name, c.id, c.train_id, c.category, tuple(c.color)) for c in Cityscapes.classes]


#: Every Cityscapes class with a non-negative id, in id order.
ALL_CLASSES: tuple[LabelClass, ...] = tuple(
    c for c in sorted(_torchvision_table(), key=lambda c: c.id) if 0 <= c.id <= MAX_LABEL_ID
)
_BY_ID = {c.id: c for c in ALL_CLASSES}
UNLABELED = _BY_ID[0]

#: The painting palette: "unlabeled" then the 19 evaluated classes in train-id order.
PALETTE: tuple[LabelClass, ...] = (UNLABELED,) + tuple(
    sorted((c for c in ALL_CLASSES if c.train_id not in (IGNORE_TRAIN_ID, -1)), key=lambda c: c.train_id)
)
NUM_PALETTE_CLASSES = len(PALETTE)  # 20
PALETTE_IDS = np.array([c.id for c in PALETTE], dtype=np.uint8)
PALETTE_COLORS = np.array([c.color for c in PALETTE], dtype=np.uint8)  # (20, 3)

# Lookup tables indexed by label id (256 entries so any uint8 indexes safely).
ID_TO_COLOR = np.zeros((256, 3), dtype=np.uint8)
ID_TO_TRAIN_ID = np.full(256, IGNORE_TRAIN_ID, dtype=np.uint8)
ID_IS_VALID = np.zeros(256, dtype=bool)
for _c in ALL_CLASSES:
    ID_TO_COLOR[_c.id] = _c.color
    ID_TO_TRAIN_ID[_c.id] = _c.train_id if 0 <= _c.train_id < IGNORE_TRAIN_ID else IGNORE_TRAIN_ID
    ID_IS_VALID[_c.id] = True

# Palette index (0 = unlabeled, 1..19 = train id + 1) for every label id: the one-hot channel.
ID_TO_PALETTE_INDEX = np.zeros(256, dtype=np.uint8)
for _i, _c in enumerate(PALETTE):
    ID_TO_PALETTE_INDEX[_c.id] = _i

TRAIN_ID_TO_ID = np.zeros(256, dtype=np.uint8)  # 255 (ignore) -> 0 (unlabeled)
for _c in PALETTE[1:]:
    TRAIN_ID_TO_ID[_c.train_id] = _c.id


def class_by_id(label_id: int) -> LabelClass:
    return _BY_ID[label_id]


def class_by_name(name: str) -> LabelClass:
    for c in ALL_CLASSES:
        if c.name == name:
            return c
    raise KeyError(name)


def ids_to_color(ids: np.ndarray) -> np.ndarray:
    """uint8 H×W label ids -> uint8 H×W×3 Cityscapes colours."""
    return ID_TO_COLOR[ids]


def ids_to_train_ids(ids: np.ndarray) -> np.ndarray:
    return ID_TO_TRAIN_ID[ids]


def train_ids_to_ids(train_ids: np.ndarray) -> np.ndarray:
    return TRAIN_ID_TO_ID[train_ids]


def ids_to_palette_index(ids: np.ndarray) -> np.ndarray:
    """Label ids -> 0..19 (ids outside the palette become 0, unlabeled)."""
    return ID_TO_PALETTE_INDEX[ids]


def invalid_ids(ids: np.ndarray) -> np.ndarray:
    """The distinct values in `ids` that are not Cityscapes label ids (sorted)."""
    present = np.unique(ids)
    return present[~ID_IS_VALID[present]]


@dataclass(frozen=True)
class SnapResult:
    ids: np.ndarray  # uint8 H×W label ids
    snapped: int  # pixels whose colour was not exactly a palette colour
    total: int

    @property
    def snapped_share(self) -> float:
        return self.snapped / self.total if self.total else 0.0


def color_to_ids(rgb: np.ndarray) -> SnapResult:
    """Colour label map (uint8 H×W×3) -> label ids, snapping every pixel to the nearest of the
    20 palette colours. JPEG noise and colour drift vanish; the count of changed pixels is kept.

    Vectorised over unique colours: real maps have few distinct colours even after JPEG, so the
    distance matrix is (unique colours × 20) instead of (pixels × 20).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 colour image, got shape {rgb.shape}")
    h, w, _ = rgb.shape
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    uniq, inverse = np.unique(packed.ravel(), return_inverse=True)
    colors = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.int32)
    diff = colors[:, None, :] - PALETTE_COLORS[None, :, :].astype(np.int32)
    dist = np.einsum("upc,upc->up", diff, diff)
    nearest = dist.argmin(axis=1)
    exact = dist[np.arange(len(uniq)), nearest] == 0
    ids = PALETTE_IDS[nearest][inverse].reshape(h, w)
    snapped = int((~exact)[inverse].sum())
    return SnapResult(ids=ids, snapped=snapped, total=h * w)
