#!/usr/bin/env python
"""Photo editing (issue 19 §4): choose the photo-edit checkpoint on validation, and compare the two
renderers on held-out real photos (docs/photo_editing.md).

    python scripts/photo_edit_study.py choose runs/photo-edit [--candidates FILE|paste ...]
    python scripts/photo_edit_study.py compare [--model FILE] [--figure docs/images/photo_edit_comparison.jpg]

choose: the run's own validation pairs (its config.toml's holdout: 3 % of CamVid train+val and the
  clip aachen_000005), never the test photos. In every pair one object's region of the TRUE label
  map (a seeded pick, core.edit.training.object_hole) is hidden and re-rendered through
  PhotoEditor (the photo outside, the true labels inside); scored by the mean absolute error to
  the real photo inside the region (0-255) and by the bundled 19-class segmenter's pixel accuracy
  there against the true labels. Best accuracy first.
compare: 10 CamVid test photos (reporting; with --photos val, 10 CamVid val photos instead, for
  choosing) and 10 frames of the validation clip aachen_000005, which no model trains on (resized
  to 256×512, the app's canvas). Each photo's labels are read by the bundled
  segmenter (as the app and `roadstudio-cli edit` do); two edits are made from them: the largest
  car becomes road ("remove a car"), the same car is taken out with the app's Remove object tool
  (core.edit.remove: its pixels take the background labels beside them, "remove object"), and a
  hedge-shaped blob of vegetation is painted onto the largest building/wall region ("add a
  hedge"). Every renderer (--renderers) renders every edit;
  the edited photo is segmented again and scored inside the edited pixels against the edited labels (the
  unedited photo scores 0 there by construction). Prints the table and writes the figure.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
from PIL import Image

from core.edit import RENDERERS, PhotoEditor
from core.edit.masks import dilate
from core.edit.remove import fill_from_surroundings
from core.edit.training import connected_region, object_hole
from core.eval.segmenter import Segmenter, resolve_segmenter
from core.io.imageio import read_rgb
from core.labels import ID_TO_COLOR, class_by_name

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
RING = 16  # px around an edit whose photo pixels of the edit's class are its colour reference
ROAD, CAR, VEG = (class_by_name(n).id for n in ("road", "car", "vegetation"))
BUILDING, WALL = class_by_name("building").id, class_by_name("wall").id
EDIT_NAMES = ("remove a car", "remove object", "add a hedge")
NOT_A_LABEL = 255  # marks a hidden region in the "original" map: differs from every real id


def _segmenter() -> Segmenter:
    return Segmenter.load(resolve_segmenter("city19"), "cpu")


def _colour_gap(image: np.ndarray, photo: np.ndarray, edited: np.ndarray, mask: np.ndarray) -> float | None:
    """How far the repainted pixels' mean colour is from the photo's own pixels of the same new class
    around them (within RING px; mean absolute difference of the RGB means, 0-255): does a removed
    car's road look like the road beside it? None when no such pixels surround the edit."""
    new = np.unique(edited[mask])
    if len(new) != 1:
        return None
    ring = dilate(mask, RING) & ~mask & (edited == new[0])
    if int(ring.sum()) < 20:
        return None
    inside = image[mask].reshape(-1, 3).mean(axis=0)
    around = photo[ring].reshape(-1, 3).mean(axis=0)
    return float(np.abs(inside - around).mean())


def _accuracy(seg: Segmenter, image: np.ndarray, labels: np.ndarray, where: np.ndarray) -> float:
    return float((seg.predict_ids(image)[where] == labels[where]).mean())


# ------------------------------------------------------------------------------------------ choose


def choose(run: Path, candidates: list[Path]) -> None:
    from core.config import load_run_config
    from core.data.registry import open_datasets

    cfg = load_run_config(run / "config.toml")
    _, val, _ = open_datasets(cfg.data, cfg.train.seed)
    assert val is not None and len(val), "the run has no validation pairs"
    pairs = []
    for i in range(len(val)):
        ids, photo = val[i]
        if photo.shape[1] > 600:  # Cityscapes frames at the app's canvas size
            photo = np.asarray(Image.fromarray(photo).resize((512, 256), Image.Resampling.LANCZOS))
            ids = np.asarray(Image.fromarray(ids).resize((512, 256), Image.Resampling.NEAREST))
        hole = object_hole(ids, np.random.default_rng(i))
        if hole is None or hole.mean() < 0.003:
            continue
        hidden = ids.copy()
        hidden[hole] = NOT_A_LABEL
        pairs.append((ids, photo, hidden, hole))
    seg = _segmenter()
    rows = []
    for path in candidates:
        # "paste": the paste renderer (the bundled default model), scored the same way
        editor = PhotoEditor.load("paste", backend="eager") if str(path) == "paste" else \
            PhotoEditor.load("photo-edit", path, backend="eager")
        errs, accs = [], []
        for ids, photo, hidden, hole in pairs:
            out = editor.render(photo, hidden, ids).image
            errs.append(float(np.abs(out[hole].astype(np.int16) - photo[hole]).mean()))
            accs.append(_accuracy(seg, out, ids, hole))
        rows.append((statistics.mean(accs), statistics.mean(errs), path))
        print(f"scored {path.name}: accuracy {rows[-1][0]:.3f}, MAE {rows[-1][1]:.1f}", flush=True)
    print(f"\n{len(pairs)} validation pairs (one object region hidden in each)")
    print("| candidate | segmenter accuracy in the region | mean abs error in the region (0-255) |")
    print("|---|---:|---:|")
    for acc, err, path in sorted(rows, key=lambda r: -r[0]):
        print(f"| {path.name} | {acc:.3f} | {err:.1f} |")


# ----------------------------------------------------------------------------------------- compare


def _photos(split: str = "held-out") -> list[tuple[str, np.ndarray]]:
    """20 photos: 10 CamVid test photos (held-out) or 10 CamVid val photos (val), and 10 frames of
    the validation clip aachen_000005 (val takes the frames between the held-out set's)."""
    camvid = sorted((SHARED / "camvid" / ("test" if split == "held-out" else "val")).glob("*.png"))
    picks = [camvid[i] for i in np.linspace(0, len(camvid) - 1, 10).astype(int)]
    clip = sorted((SHARED / "cityscapes-seq" / "A").glob("aachen_000005_*.jpg"))
    frames = np.linspace(0, len(clip) - 1, 10).astype(int)
    if split != "held-out":  # the neighbouring frames: none of the held-out set's
        frames = np.array([i + 1 if i + 1 < len(clip) and i + 1 not in frames else i - 1 for i in frames])
    picks += [clip[i] for i in frames]
    out = []
    for p in picks:
        rgb = read_rgb(p)
        if rgb.shape[1] > 600:
            rgb = np.asarray(Image.fromarray(rgb).resize((512, 256), Image.Resampling.LANCZOS))
        out.append((p.stem, rgb))
    return out


def _largest_region(ids: np.ndarray, classes: tuple[int, ...], min_share: float) -> np.ndarray | None:
    mask = np.isin(ids, classes)
    best: np.ndarray | None = None
    remaining = mask.copy()
    while remaining.sum() >= min_share * ids.size:
        y, x = np.argwhere(remaining)[0]
        region = connected_region(mask, int(y), int(x))
        remaining &= ~region
        if best is None or region.sum() > best.sum():
            best = region
    return best if best is not None and best.sum() >= min_share * ids.size else None


def _edits(ids: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    edits: dict[str, np.ndarray] = {}
    car = _largest_region(ids, (CAR,), 0.003)
    if car is not None:
        e = ids.copy()
        e[car] = ROAD
        edits["remove a car"] = e
        edits["remove object"] = fill_from_surroundings(ids, car)
    wall = _largest_region(ids, (BUILDING, WALL), 0.02)
    if wall is not None:
        rng = np.random.default_rng(seed)
        ys, xs = np.nonzero(wall)
        low = ys >= np.percentile(ys, 50)  # a hedge grows at the foot of the wall
        k = int(rng.integers(low.sum()))
        cy, cx = int(ys[low][k]), int(xs[low][k])
        h, w = ids.shape
        ry, rx = 0.07 * h, 0.11 * w
        yy, xx = np.mgrid[:h, :w]
        blob = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        e = ids.copy()
        e[blob & wall] = VEG
        if (e != ids).mean() >= 0.003:
            edits["add a hedge"] = e
    return edits


def _tile(image: np.ndarray, height: int = 200) -> np.ndarray:
    w = round(image.shape[1] * height / image.shape[0])
    return np.asarray(Image.fromarray(image).resize((w, height), Image.Resampling.LANCZOS))


def compare(model: Path | None, figure: Path | None, rows_in_figure: int,
            renderers: tuple[str, ...] = RENDERERS, split: str = "held-out") -> None:
    seg = _segmenter()
    editors = {r: PhotoEditor.load(r, model if r == "photo-edit" else None, backend="eager")  # type: ignore[arg-type]
               for r in renderers}
    scores: dict[tuple[str, str, str], list[float]] = {}
    gaps: dict[tuple[str, str], list[float]] = {}
    examples: list[tuple[str, list[np.ndarray]]] = []
    for n, (name, photo) in enumerate(_photos(split)):
        camvid_name = "CamVid test" if split == "held-out" else "CamVid val"
        source = camvid_name if not name.startswith("aachen") else "clip aachen_000005"
        original = seg.predict_ids(photo)
        for edit_name, edited in _edits(original, n).items():
            mask = edited != original
            outs = {}
            for renderer, editor in editors.items():
                outs[renderer] = editor.render(photo, original, edited).image
                acc = _accuracy(seg, outs[renderer], edited, mask)
                scores.setdefault((source, edit_name, renderer), []).append(acc)
                scores.setdefault(("all", edit_name, renderer), []).append(acc)
                gap = _colour_gap(outs[renderer], photo, edited, mask)
                if gap is not None:
                    gaps.setdefault((edit_name, renderer), []).append(gap)
            print(f"{name} {edit_name}: " + ", ".join(f"{r} {scores[(source, edit_name, r)][-1]:.2f}" for r in outs),
                  flush=True)
            overlay = photo.copy()
            overlay[mask] = (0.35 * photo[mask] + 0.65 * ID_TO_COLOR[edited][mask]).astype(np.uint8)
            examples.append((f"{name}: {edit_name}", [photo, overlay] + [outs[r] for r in editors]))
    print("\n| photos | edit | edits | " + " | ".join(editors) + " |")
    print("|---|---|---:|" + "---:|" * len(editors))
    for source in ("CamVid test" if split == "held-out" else "CamVid val", "clip aachen_000005", "all"):
        for edit_name in EDIT_NAMES:
            columns = [scores.get((source, edit_name, r)) for r in editors]
            if all(columns):
                print(f"| {source} | {edit_name} | {len(columns[0] or [])} | "
                      + " | ".join(f"{statistics.mean(c or [0.0]):.3f}" for c in columns) + " |")
    print("\nColour gap to the photo's own pixels of the edit's class around it (0-255, lower is closer):")
    for (edit_name, renderer), values in sorted(gaps.items()):
        print(f"  {edit_name}, {renderer}: {statistics.mean(values):.1f} over {len(values)} edits")
    if figure is not None and examples:
        # Half of the rows of each kind of edit, each half evenly spread over both sources.
        chosen = []
        for kind, rows_of_kind in (("remove a car", (rows_in_figure + 1) // 2), ("add a hedge", rows_in_figure // 2)):
            of_kind = [e for e in examples if e[0].endswith(kind)]
            if of_kind and rows_of_kind:
                chosen += [of_kind[i] for i in np.linspace(0, len(of_kind) - 1, rows_of_kind).astype(int)]
        rows = [np.concatenate([_tile(t) for t in tiles], axis=1) for _, tiles in chosen]
        width = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
        figure.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(rows)).save(figure, quality=90)
        print(f"\nfigure {figure}: photo | edited labels (over the photo) | {' | '.join(editors)}; rows: "
              + "; ".join(name for name, _ in chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("choose")
    c.add_argument("run", type=Path)
    c.add_argument("--candidates", type=Path, nargs="*", default=None)
    m = sub.add_parser("compare")
    m.add_argument("--model", type=Path, default=None)
    m.add_argument("--figure", type=Path, default=None)
    m.add_argument("--rows", type=int, default=6)
    m.add_argument("--renderers", nargs="+", choices=RENDERERS, default=list(RENDERERS),
                   help="the renderers to compare, in the figure's column order")
    m.add_argument("--photos", choices=("held-out", "val"), default="held-out",
                   help="held-out: CamVid test photos (reporting); val: CamVid val photos (choosing); "
                        "both with 10 frames of the validation clip")
    args = parser.parse_args()
    if args.mode == "choose":
        candidates = args.candidates or sorted((args.run / "checkpoints").glob("step_*.safetensors"))
        choose(args.run, candidates)
    else:
        compare(args.model, args.figure, args.rows, tuple(args.renderers), args.photos)


if __name__ == "__main__":
    main()
