"""Draw the sample scenes shipped in resources/samples/ (Cityscapes labelIds PNGs, 256×512).

Each scene is a hand-placed set of crisp polygons in one-point perspective, drawn in the order
far → near so that nearer objects cover farther ones. Run: python scripts/make_sample_scenes.py
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.io.imageio import write_label_ids_png
from core.labels import class_by_name

H, W = 256, 512
OUT = Path(__file__).resolve().parent.parent / "resources" / "samples"


def cid(name: str) -> int:
    return class_by_name(name).id


class Scene:
    def __init__(self, horizon: int, vx: int = W // 2) -> None:
        self.img = Image.new("L", (W, H), cid("sky"))
        self.draw = ImageDraw.Draw(self.img)
        self.hy, self.vx = horizon, vx

    def poly(self, name: str, pts: list[tuple[float, float]]) -> None:
        self.draw.polygon([(round(x), round(y)) for x, y in pts], fill=cid(name))

    def rect(self, name: str, x0: float, y0: float, x1: float, y1: float) -> None:
        self.draw.rectangle([round(x0), round(y0), round(x1) - 1, round(y1) - 1], fill=cid(name))

    def ellipse(self, name: str, x0: float, y0: float, x1: float, y1: float) -> None:
        self.draw.ellipse([round(x0), round(y0), round(x1), round(y1)], fill=cid(name))

    def ground_x(self, x_bottom: float, y: float) -> float:
        """x at height y of the line from (x_bottom, H) to the vanishing point."""
        t = (y - self.hy) / (H - self.hy)
        return self.vx + (x_bottom - self.vx) * t

    def strip(self, name: str, xb0: float, xb1: float, y_top: float | None = None) -> None:
        """A ground strip between two lines converging to the vanishing point."""
        yt = self.hy + 1 if y_top is None else y_top
        self.poly(name, [(self.ground_x(xb0, yt), yt), (self.ground_x(xb1, yt), yt), (xb1, H), (xb0, H)])

    def car(self, cx: float, base_y: float, scale: float, name: str = "car") -> None:
        w, h = 90 * scale, 42 * scale
        self.rect(name, cx - w / 2, base_y - h * 0.62, cx + w / 2, base_y - h * 0.1)
        self.poly(name, [(cx - w * 0.33, base_y - h * 0.62), (cx - w * 0.2, base_y - h),
                         (cx + w * 0.22, base_y - h), (cx + w * 0.36, base_y - h * 0.62)])
        for dx in (-w * 0.3, w * 0.3):
            self.ellipse(name, cx + dx - h * 0.16, base_y - h * 0.3, cx + dx + h * 0.16, base_y)

    def person(self, cx: float, base_y: float, height: float) -> None:
        hw = height * 0.14
        self.ellipse("person", cx - hw * 0.55, base_y - height, cx + hw * 0.55, base_y - height * 0.84)
        self.rect("person", cx - hw, base_y - height * 0.84, cx + hw, base_y - height * 0.45)
        self.rect("person", cx - hw * 0.8, base_y - height * 0.45, cx - hw * 0.1, base_y)
        self.rect("person", cx + hw * 0.1, base_y - height * 0.45, cx + hw * 0.8, base_y)

    def tree(self, cx: float, base_y: float, height: float) -> None:
        self.rect("vegetation", cx - height * 0.03, base_y - height * 0.5, cx + height * 0.03, base_y)
        self.ellipse("vegetation", cx - height * 0.28, base_y - height, cx + height * 0.28, base_y - height * 0.38)

    def pole(self, x: float, base_y: float, height: float, sign: str | None = None) -> None:
        self.rect("pole", x - max(1, height * 0.012), base_y - height, x + max(1, height * 0.012), base_y)
        if sign == "light":
            self.rect("traffic light", x - height * 0.04, base_y - height, x + height * 0.04, base_y - height * 0.8)
        elif sign == "sign":
            self.ellipse("traffic sign", x - height * 0.07, base_y - height, x + height * 0.07, base_y - height * 0.86)

    def ids(self) -> np.ndarray:
        return np.asarray(self.img, dtype=np.uint8).copy()


def city_street() -> np.ndarray:
    s = Scene(horizon=112)
    # Facades: left and right blocks converging to the vanishing point, with a gap of sky.
    s.poly("building", [(0, 0), (205, 70), (205, 120), (0, 212)])
    s.poly("building", [(W, 0), (310, 74), (310, 120), (W, 212)])
    s.poly("building", [(215, 82), (300, 82), (300, 118), (215, 118)])
    s.strip("sidewalk", -260, 40)
    s.strip("sidewalk", 470, 780)
    s.strip("road", 40, 470)
    s.pole(100, 214, 120, "light")
    s.pole(420, 212, 110, "sign")
    s.tree(40, 236, 150)
    s.tree(478, 232, 140)
    s.car(300, 150, 0.55)
    s.car(210, 170, 0.9)
    s.car(360, 205, 1.35)
    s.person(70, 240, 80)
    s.person(445, 222, 64)
    s.person(150, 175, 36)
    return s.ids()


def suburban_road() -> np.ndarray:
    s = Scene(horizon=118, vx=270)
    s.rect("vegetation", 0, 70, W, 122)  # tree line along the horizon
    for x, h in ((30, 60), (120, 75), (390, 70), (470, 55)):
        s.ellipse("vegetation", x - h * 0.6, 118 - h, x + h * 0.6, 125)
    s.poly("building", [(60, 92), (150, 92), (150, 124), (60, 124)])  # houses behind the verge
    s.poly("building", [(52, 92), (105, 70), (158, 92)])
    s.poly("building", [(360, 95), (440, 95), (440, 124), (360, 124)])
    s.strip("terrain", -700, 10)
    s.strip("terrain", 560, 1300)
    s.strip("sidewalk", 10, 80)
    s.strip("sidewalk", 490, 560)
    s.strip("road", 80, 490)
    s.poly("fence", [(0, 150), (150, 128), (150, 134), (0, 162)])
    s.tree(470, 240, 170)
    s.tree(30, 200, 110)
    s.car(330, 160, 0.6)
    s.car(420, 195, 1.0)
    s.pole(160, 150, 60, "sign")
    s.person(515, 250, 70)
    return s.ids()


def highway() -> np.ndarray:
    s = Scene(horizon=120, vx=240)
    s.rect("terrain", 0, 95, W, 122)
    s.rect("vegetation", 300, 88, W, 118)
    s.strip("terrain", -900, -60)
    s.strip("vegetation", 580, 1400)
    s.strip("road", -60, 580)
    s.poly("wall", [(s.ground_x(240, 121), 121), (s.ground_x(270, 121), 121), (270, H), (240, H)])  # median barrier
    s.poly("fence", [(0, 190), (228, 112), (228, 116), (0, 204)])  # guard rail drawn as fence
    s.rect("traffic sign", 300, 40, 430, 80)  # gantry sign
    s.pole(300, 125, 90)
    s.pole(430, 125, 90)
    s.car(190, 150, 0.5)
    s.car(330, 170, 0.8, name="truck")
    s.car(120, 215, 1.3)
    s.car(420, 240, 1.6)
    return s.ids()


SCENES: dict[str, Callable[[], np.ndarray]] = {
    "city_street": city_street,
    "suburban_road": suburban_road,
    "highway": highway,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, fn in SCENES.items():
        write_label_ids_png(OUT / f"{name}.png", fn())
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
