#!/usr/bin/env python
"""A contact sheet: painted scenes rendered by several generators, one row per scene.

    python scripts/contact_sheet.py --model old=OLD.safetensors --model new=NEW.safetensors \\
        --out docs/images/brush_contact_sheet.png [--scenes benchmarks/painted_set --pattern 'class_*.png']

Columns: the painted label map (palette colours), then each model's rendering (deterministic). Row
titles name the scene (for the per-class scenes of benchmarks/painted_set: the brush class painted
large in it). Used for docs/output_quality.md: "every brush renders as its class", old beside new.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.io.imageio import read_label_ids, write_png
from core.render.infer import Predictor
from core.labels import ids_to_color

TITLE_W = 150
HEADER_H = 22


def _label(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str) -> None:
    draw.text(xy, text, fill=(20, 20, 20))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True, metavar="NAME=FILE")
    parser.add_argument("--scenes", type=Path, default=Path("benchmarks/painted_set"))
    parser.add_argument("--pattern", default="class_*.png")
    parser.add_argument("--scale", type=float, default=0.5, help="shrink each 256×512 tile by this")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    models = [(spec.split("=", 1)[0], Predictor.from_path(spec.split("=", 1)[1], "cpu", backend="eager"))
              for spec in args.model]
    files = sorted(args.scenes.glob(args.pattern))
    if not files:
        raise SystemExit(f"no scenes match {args.scenes / args.pattern}")
    first = read_label_ids(files[0])
    th, tw = round(first.shape[0] * args.scale), round(first.shape[1] * args.scale)
    sheet = Image.new("RGB", (TITLE_W + tw * (1 + len(models)), HEADER_H + th * len(files)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for col, title in enumerate(["painted labels"] + [name for name, _ in models]):
        _label(draw, (TITLE_W + col * tw + 6, 5), title)
    for row, path in enumerate(files):
        ids = read_label_ids(path)
        tiles = [ids_to_color(ids)] + [predictor.predict(ids) for _, predictor in models]
        name = path.stem.split("_", 2)[-1].replace("_", " ") if path.stem.startswith("class_") else path.stem
        _label(draw, (6, HEADER_H + row * th + th // 2 - 6), name)
        for col, tile in enumerate(tiles):
            image = Image.fromarray(tile).resize((tw, th), Image.Resampling.LANCZOS)
            sheet.paste(image, (TITLE_W + col * tw, HEADER_H + row * th))
    write_png(args.out, np.asarray(sheet))
    print(f"wrote {args.out} ({len(files)} scenes × {len(models)} models)")


if __name__ == "__main__":
    main()
