"""How much of each brush class a model saw in training, and which brushes to warn about.

Every checkpoint trained by Road Studio 0.3+ records `class_pixel_share` in its card: the share of
the label pixels it trained on, per class name (core.train.loop). A class the model barely saw
renders badly whatever the architecture, so the app marks those brushes (palette, compare view,
model card) with the measured share instead of letting a painted bus come out as a teal box
unexplained. Models without the record (older files, imported reference weights) are "unknown":
nothing is marked, and the card says it was not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.labels import PALETTE

#: Below this share of the training pixels a brush is marked as barely seen. 0.1 % is about the
#: share of the classes that rendered as flat boxes in version 0.2 (wall 0.6 % still rendered as
#: a wall-like texture; truck, bus and train at 0.01-0.09 % did not).
BARELY_SEEN_SHARE = 1e-3

#: The seen class a barely seen brush is most like (shape, size, place in a street scene): where
#: fine-tuning starts a model from one that barely saw a class, the class starts as this one
#: (core.train.warm_start), so a painted bus first renders as a large car, not as a flat box.
#: CamVid's "Bicyclist" covers the rider and the bicycle and is trained as rider, so two-wheelers
#: start from it.
NEAREST_SEEN_CLASS: dict[str, str] = {
    "wall": "building", "traffic light": "traffic sign", "terrain": "vegetation",
    "truck": "car", "bus": "car", "train": "car", "motorcycle": "rider", "bicycle": "rider",
}

BRUSH_NAMES: tuple[str, ...] = tuple(c.name for c in PALETTE if c.id != 0)


def class_shares(card: Mapping[str, Any] | None) -> dict[str, float] | None:
    """The recorded per-class pixel share of a model card, or None when it has none."""
    if not card:
        return None
    shares = card.get("class_pixel_share")
    if not isinstance(shares, Mapping):
        return None
    try:
        return {str(k): float(v) for k, v in shares.items()}
    except (TypeError, ValueError):
        return None


def barely_seen(card: Mapping[str, Any] | None, threshold: float = BARELY_SEEN_SHARE) -> dict[str, float]:
    """Brush class name -> share, for the brushes this model saw under `threshold` of its training
    pixels (never-seen classes included, at 0.0). Empty when the card records no shares."""
    shares = class_shares(card)
    if shares is None:
        return {}
    return {name: shares.get(name, 0.0) for name in BRUSH_NAMES if shares.get(name, 0.0) < threshold}


def format_share(share: float) -> str:
    """0.00012 -> '0.012 %', 0.25 -> '25 %': enough digits to tell a rare class from none."""
    percent = 100.0 * share
    if percent == 0:
        return "0 %"
    if percent >= 1:
        return f"{percent:.0f} %"
    if percent >= 0.1:
        return f"{percent:.1f} %"
    return f"{percent:.2g} %"


def warning_text(name: str, share: float) -> str:
    """The tooltip / card line for a barely seen brush."""
    if share == 0:
        return f"this model never saw {name} pixels in training: expect a rough rendering"
    return f"this model saw {format_share(share)} {name} pixels in training: expect a rough rendering"


def summary(card: Mapping[str, Any] | None) -> str:
    """One line for the model card and the compare view."""
    if class_shares(card) is None:
        return "not recorded in this model (trained before Road Studio 0.3, or imported)"
    rare = barely_seen(card)
    if not rare:
        return "every brush class was seen in training"
    parts = [f"{name} ({format_share(share)})" for name, share in sorted(rare.items(), key=lambda kv: kv[1])]
    return "barely seen in training, expect rough renderings: " + ", ".join(parts)
