#!/usr/bin/env python
"""Write the painted test set: street scenes drawn the way a person paints them in the app.

    python scripts/make_painted_set.py [--out benchmarks/painted_set]

Flat shapes only — a perspective road, straight-edged façades, round trees, boxy vehicles, a strip
of grass, stick-like poles — at the app's default canvas size (256×512), as Cityscapes labelIds
PNGs. Two parts:
- `class_XX_<name>.png`: one scene per brush class (19), a plain street with that class painted
  large in it (the contact sheet of docs/output_quality.md renders these, old model beside new);
- `street_XX.png`: 20 mixed scenes, each holding the base classes and a rotating set of the others,
  so every class appears in at least 5 of the 39 scenes.
Never trained on (the models train on real label maps and on painting-like simplifications of
them, core.data.painting; these are drawn from scratch). Deterministic: the same files every run.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.io.imageio import write_label_ids_png
from core.labels import PALETTE, class_by_name

H, W = 256, 512
ID = {c.name: c.id for c in PALETTE}


class Painter:
    """Draws class shapes onto a label-id canvas, later shapes over earlier ones."""

    def __init__(self, rng: random.Random) -> None:
        self.image = Image.new("L", (W, H), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.rng = rng

    def rect(self, name: str, x0: float, y0: float, x1: float, y1: float) -> None:
        self.draw.rectangle([round(x0), round(y0), round(x1), round(y1)], fill=ID[name])

    def poly(self, name: str, points: list[tuple[float, float]]) -> None:
        self.draw.polygon([(round(x), round(y)) for x, y in points], fill=ID[name])

    def ellipse(self, name: str, x0: float, y0: float, x1: float, y1: float) -> None:
        self.draw.ellipse([round(x0), round(y0), round(x1), round(y1)], fill=ID[name])

    def array(self) -> np.ndarray:
        return np.asarray(self.image, dtype=np.uint8).copy()


class Street:
    """A street in one-point perspective: horizon, vanishing point, road and sidewalk edges."""

    def __init__(self, p: Painter, *, terrain_left: bool = False, terrain_right: bool = False) -> None:
        rng = p.rng
        self.p = p
        self.horizon = rng.uniform(0.36, 0.48) * H
        self.vx = rng.uniform(0.4, 0.6) * W
        self.road_half = rng.uniform(0.3, 0.45) * W  # half-width of the road at the bottom edge
        self.walk = rng.uniform(0.16, 0.28) * W  # sidewalk width at the bottom edge
        p.rect("sky", 0, 0, W, self.horizon)
        p.rect("building", 0, self.horizon - 2, W, H)  # far end of the street
        left_name = "terrain" if terrain_left else "sidewalk"
        right_name = "terrain" if terrain_right else "sidewalk"
        bx0, bx1 = self.vx - self.road_half - self.walk, self.vx + self.road_half + self.walk
        p.poly(left_name, [(self.vx - 4, self.horizon), (bx0 - W, H), (self.vx - self.road_half, H)])
        p.poly(right_name, [(self.vx + 4, self.horizon), (bx1 + W, H), (self.vx + self.road_half, H)])
        p.poly("road", [(self.vx - 3, self.horizon), (self.vx + 3, self.horizon),
                        (self.vx + self.road_half, H), (self.vx - self.road_half, H)])

    def depth(self, y: float) -> float:
        """How big things are at image row y (0 at the horizon, 1 at the bottom edge)."""
        return max(0.02, (y - self.horizon) / (H - self.horizon))

    def road_x(self, y: float, t: float) -> float:
        """x of the point a share t across the road (-1 left edge .. 1 right edge) at row y."""
        return self.vx + t * self.road_half * self.depth(y)

    def side_x(self, y: float, left: bool, out: float = 1.0) -> float:
        """x just beyond the road edge at row y, `out` sidewalk widths outwards."""
        d = self.depth(y)
        edge = self.road_half * d + self.walk * d * out
        return self.vx - edge if left else self.vx + edge

    # ------------------------------------------------------------------ things on the street

    def facades(self, left: bool, name: str = "building", height: float | None = None) -> None:
        """A row of straight-edged façades (trapezoids in perspective) along one side."""
        rng = self.p.rng
        top_far = self.horizon - rng.uniform(0.05, 0.15) * H
        top_near = rng.uniform(-0.1, 0.15) * H if height is None else self.horizon - height
        x_far = self.side_x(self.horizon + 2, left, 1.0)
        x_near = 0.0 if left else float(W)
        # The façades stand on the sidewalk's outer edge: their base meets the image border where
        # that edge does (or the bottom edge, when the edge leaves through the bottom).
        reach = (self.vx if left else W - self.vx) / (self.road_half + self.walk)
        base_y = min(float(H), self.horizon + reach * (H - self.horizon))
        points = [(x_far, self.horizon + 1), (x_far, top_far), (x_near, top_near), (x_near, base_y)]
        if base_y >= H:
            points.append((self.side_x(H, left, 1.0), float(H)))
        self.p.poly(name, points)

    def wall(self, left: bool) -> None:
        """A low wall along the sidewalk's outer edge."""
        y0, y1 = self.horizon + 4, H
        xf, xn = self.side_x(y0, left, 1.05), self.side_x(y1, left, 1.05)
        hf, hn = 4, 0.3 * H
        self.p.poly("wall", [(xf, y0 - hf), (xn, y1 - hn), (xn, y1), (xf, y0)])

    def fence(self, left: bool) -> None:
        y0, y1 = self.horizon + 4, H
        xf, xn = self.side_x(y0, left, 0.95), self.side_x(y1, left, 0.95)
        self.p.poly("fence", [(xf, y0 - 5), (xn, y1 - 0.22 * H), (xn, y1 - 0.12 * H), (xf, y0 - 1)])

    def tree(self, x: float, y: float, scale: float) -> None:
        r = 40 * scale
        self.p.rect("vegetation", x - 3 * scale, y - 2.2 * r, x + 3 * scale, y)  # trunk, painted green
        self.p.ellipse("vegetation", x - r, y - 3.4 * r, x + r, y - 1.4 * r)

    def hedge(self, left: bool) -> None:
        y0, y1 = self.horizon + 3, H
        xf, xn = self.side_x(y0, left, 1.0), self.side_x(y1, left, 1.0)
        self.p.poly("vegetation", [(xf, y0 - 8), (xn, y1 - 0.35 * H), (xn, y1), (xf, y0)])

    def pole(self, x: float, y: float, scale: float, head: str | None = None) -> None:
        h = 150 * scale
        self.p.rect("pole", x - 2 * scale, y - h, x + 2 * scale, y)
        if head == "traffic sign":
            self.p.ellipse("traffic sign", x - 12 * scale, y - h - 12 * scale, x + 12 * scale, y - h + 12 * scale)
        elif head == "traffic light":
            self.p.rect("traffic light", x - 6 * scale, y - h - 10 * scale, x + 6 * scale, y - h + 22 * scale)

    def vehicle(self, name: str, t: float, y: float, size: float = 1.0) -> None:
        """A boxy vehicle standing on the road at row y, a share t across it."""
        d = self.depth(y) * size
        x = self.road_x(y, t)
        dims = {"car": (70, 40), "truck": (90, 85), "bus": (150, 90), "train": (220, 80)}[name]
        w, h = dims[0] * d * 1.6, dims[1] * d * 1.6
        self.p.rect(name, x - w / 2, y - h, x + w / 2, y)
        if name == "car":  # the cabin: a narrower box on top
            self.p.rect("car", x - w * 0.32, y - h * 1.45, x + w * 0.32, y - h * 0.9)

    def person(self, x: float, y: float, scale: float, name: str = "person") -> None:
        h = 70 * scale
        self.p.rect(name, x - 6 * scale, y - h * 0.82, x + 6 * scale, y)  # body and legs
        self.p.ellipse(name, x - 6 * scale, y - h, x + 6 * scale, y - h * 0.8)  # head

    def two_wheeler(self, name: str, x: float, y: float, scale: float) -> None:
        """A bicycle or motorcycle (two wheels and a frame) with its rider on top."""
        r = 12 * scale
        self.p.ellipse(name, x - 3 * r, y - 2 * r, x - r, y)
        self.p.ellipse(name, x + r, y - 2 * r, x + 3 * r, y)
        self.p.rect(name, x - 2 * r, y - 1.7 * r, x + 2 * r, y - 0.9 * r)
        self.person(x, y - 1.2 * r, scale * 0.8, name="rider")


def _class_scene(name: str, seed: int) -> np.ndarray:
    """A plain street with `name` painted large in it."""
    rng = random.Random(seed)
    p = Painter(rng)
    s = Street(p, terrain_left=name == "terrain", terrain_right=name == "terrain" and rng.random() < 0.5)
    if name != "building":
        s.facades(True)
        s.facades(False)
    near = H - 6
    def poles() -> None:
        for k in range(3):
            s.pole(s.side_x(near - k * 25, k % 2 == 0, 0.4), near - k * 25, 1.5 - 0.3 * k)

    def trees() -> None:
        for k in range(3):
            s.tree(s.side_x(near - k * 30, k % 2 == 1, 0.5), near - k * 30, 1.2 - 0.3 * k)

    def people() -> None:
        for k in range(3):
            s.person(s.side_x(near - 10 - k * 30, k % 2 == 0, 0.5), near - 10 - k * 30, 1.6 - 0.4 * k)

    def both_sides(draw: Callable[[bool], None]) -> Callable[[], None]:
        def run() -> None:
            for left in (True, False):
                draw(left)
        return run

    def tall_buildings() -> None:
        s.facades(True)
        s.facades(False, height=0.9 * H)

    special: dict[str, Callable[[], None]] = {
        "road": lambda: s.vehicle("car", 0.45, s.horizon + 0.4 * (H - s.horizon), 0.8),
        "sidewalk": lambda: s.person(s.side_x(near - 20, False, 0.5), near - 20, 1.3),
        "building": tall_buildings,
        "wall": both_sides(s.wall),
        "fence": both_sides(s.fence),
        "pole": poles,
        "traffic light": lambda: s.pole(s.side_x(near, False, 0.4), near, 1.5, head="traffic light"),
        "traffic sign": lambda: s.pole(s.side_x(near, True, 0.4), near, 1.5, head="traffic sign"),
        "vegetation": trees,
        "terrain": lambda: s.tree(s.side_x(near - 30, True, 0.6), near - 30, 0.8),
        "sky": lambda: None,
        "person": people,
        "rider": lambda: s.two_wheeler("bicycle", s.road_x(near - 20, -0.3), near - 20, 1.6),
        "car": lambda: s.vehicle("car", -0.35, near - 10, 1.0),
        "truck": lambda: s.vehicle("truck", 0.3, near - 30, 1.0),
        "bus": lambda: s.vehicle("bus", 0.0, near - 40, 0.8),
        "train": lambda: s.vehicle("train", 0.1, s.horizon + 0.6 * (H - s.horizon), 1.0),
        "motorcycle": lambda: s.two_wheeler("motorcycle", s.road_x(near - 15, 0.25), near - 15, 1.8),
        "bicycle": lambda: s.two_wheeler("bicycle", s.road_x(near - 15, -0.25), near - 15, 1.8),
    }
    special[name]()
    if name == "sky":  # a low street under a big sky
        p.rect("sky", 0, 0, W, s.horizon - 5)
    return p.array()


#: Classes added to mixed scene k when k % period == offset (base classes are always in).
_ROTATING = {
    "terrain": (2, 0), "wall": (3, 0), "fence": (3, 1), "traffic light": (2, 1), "truck": (4, 0),
    "bus": (4, 2), "train": (5, 3), "motorcycle": (4, 1), "bicycle": (4, 3), "person": (2, 0),
}


def _street_scene(k: int, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    has = {name for name, (period, offset) in _ROTATING.items() if k % period == offset}
    p = Painter(rng)
    s = Street(p, terrain_left="terrain" in has and rng.random() < 0.5, terrain_right="terrain" in has)
    for left in (True, False):
        s.facades(left)
    if "wall" in has:
        s.wall(rng.random() < 0.5)
    if "fence" in has:
        s.fence(rng.random() < 0.5)
    if rng.random() < 0.5:
        s.hedge(rng.random() < 0.5)
    for _j in range(rng.randint(1, 3)):  # trees along the street
        y = s.horizon + (0.3 + 0.6 * rng.random()) * (H - s.horizon)
        s.tree(s.side_x(y, rng.random() < 0.5, 0.6), y, 0.4 + s.depth(y))
    y = s.horizon + 0.8 * (H - s.horizon)
    s.pole(s.side_x(y, rng.random() < 0.5, 0.4), y, 0.4 + s.depth(y),
           head="traffic light" if "traffic light" in has else "traffic sign")
    y = s.horizon + 0.6 * (H - s.horizon)
    s.pole(s.side_x(y, rng.random() < 0.5, 0.4), y, 0.4 + s.depth(y), head="traffic sign")
    vehicles = ["car"] * rng.randint(1, 3) + [v for v in ("truck", "bus", "train") if v in has]
    rng.shuffle(vehicles)
    rows = sorted(s.horizon + (0.25 + 0.7 * rng.random()) * (H - s.horizon) for _ in vehicles)
    for name, y in zip(vehicles, rows, strict=True):  # far first: near vehicles paint over far ones
        s.vehicle(name, rng.uniform(-0.6, 0.6), y, 0.7 if name == "train" else 1.0)
    if "person" in has:
        for _ in range(rng.randint(1, 3)):
            y = s.horizon + (0.5 + 0.5 * rng.random()) * (H - s.horizon)
            s.person(s.side_x(y, rng.random() < 0.5, 0.5), y, 0.3 + 1.2 * s.depth(y))
    for name in ("motorcycle", "bicycle"):
        if name in has:
            y = s.horizon + (0.6 + 0.35 * rng.random()) * (H - s.horizon)
            s.two_wheeler(name, s.road_x(y, rng.uniform(-0.7, 0.7)), y, 0.3 + 1.2 * s.depth(y))
    return p.array()


BRUSH_CLASSES = tuple(c.name for c in PALETTE if c.id != 0)


def make_scenes() -> dict[str, np.ndarray]:
    scenes: dict[str, np.ndarray] = {}
    for i, name in enumerate(BRUSH_CLASSES):
        scenes[f"class_{i:02d}_{name.replace(' ', '_')}"] = _class_scene(name, 1000 + i)
    for k in range(20):
        scenes[f"street_{k:02d}"] = _street_scene(k, 2000 + k)
    return scenes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/painted_set"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(BRUSH_CLASSES, 0)
    for stem, ids in make_scenes().items():
        write_label_ids_png(args.out / f"{stem}.png", ids)
        for name in BRUSH_CLASSES:
            counts[name] += int((ids == class_by_name(name).id).any())
    print(f"wrote {len(make_scenes())} scenes to {args.out}")
    print("scenes per class: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
