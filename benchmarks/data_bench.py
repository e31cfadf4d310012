"""Dataset throughput: pairs/s for each source, and the loader against a training step.

    python -m benchmarks.data_bench [--repeats 5] [--quick]

Sources (decode + label conversion, no transforms), each timed over the same pairs `--repeats`
times, median reported:
  synthetic   procedural street scenes at 256×512 (generated, no files)
  aligned     ../shared/data/cityscapes-mini-aligned: 256×512 JPEG A|B, label half snapped
  cityscapes  ../shared/data/cityscapes-mini: 1024×2048 PNG photo + labelIds PNG
  folders     a temporary A/ (JPEG photos) + B/ (labelIds PNG) folder of 256×512 pairs
Then the training input pipeline (PairDataset: source + default joint transforms, resize 286 ->
random crop 256 -> flip, batch 1, no workers) against one pix2pix optimisation step (G + D
forward/backward, Adam) of a tiny U-Net (ngf 8) and of the default one (ngf 64), on the CPU.

Both wall-clock and process CPU time are given: on a shared machine the CPU time per pair is the
fairer "one core" figure. All of it runs in one thread (numpy's element-wise work is single
threaded; torch is set to 1 thread). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

from benchmarks.common import format_load, load_average
from core.config import DataConfig, DiscriminatorConfig, GeneratorConfig
from core.data.aligned import AlignedSource
from core.data.cityscapes import CityscapesSource
from core.data.folders import FolderPairsSource
from core.data.loader import PairDataset
from core.data.synthetic import SyntheticStreets, generate_pair
from core.models.encoding import encode_labels
from core.io.imageio import write_label_ids_png
from core.models import build_discriminator, build_generator

REPO = Path(__file__).resolve().parent.parent

SHARED = REPO.parent / "shared" / "data"


def timed(fn: Callable[[], int], repeats: int) -> tuple[float, float]:
    """Median items/s by wall clock and by process CPU time over `repeats` runs of fn (which
    returns how many items it processed)."""
    wall, cpu = [], []
    fn()  # warm-up: caches, lazy imports, noise tiles
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        n = fn()
        wall.append(n / (time.perf_counter() - t0))
        cpu.append(n / max(time.process_time() - c0, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


class Indexed(Protocol):
    """A pair source or a dataset: what pass_over reads."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> object: ...


def pass_over(source: Indexed, count: int | None = None) -> Callable[[], int]:
    n = len(source) if count is None else min(count, len(source))

    def run() -> int:
        for i in range(n):
            source[i]
        return n

    return run


def make_folders(root: Path, count: int) -> FolderPairsSource:
    from PIL import Image

    for i in range(count):
        labels, photo = generate_pair(11, i, (256, 512))
        (root / "A").mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo).save(root / "A" / f"{i}.jpg", quality=90)
        write_label_ids_png(root / "B" / f"{i}.png", labels)
    return FolderPairsSource(root, "BtoA")


def train_step_rate(ngf: int, repeats: int) -> tuple[float, float]:
    gen_cfg = GeneratorConfig(ngf=ngf)
    g = build_generator(gen_cfg)
    d = build_discriminator(DiscriminatorConfig(ndf=ngf), gen_cfg)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    labels, photo = generate_pair(0, 0, (256, 256))
    x = encode_labels(torch.from_numpy(labels)[None], gen_cfg.input_encoding)
    real = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 127.5 - 1

    def step() -> int:
        fake = g(x)
        pred_fake = d(torch.cat([x, fake.detach()], 1))
        pred_real = d(torch.cat([x, real], 1))
        loss_d = 0.5 * (bce(pred_fake, torch.zeros_like(pred_fake)) + bce(pred_real, torch.ones_like(pred_real)))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        pred = d(torch.cat([x, fake], 1))
        loss_g = bce(pred, torch.ones_like(pred)) + 100 * (fake - real).abs().mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return 1

    return timed(step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer pairs, skip the ngf 64 step")
    args = parser.parse_args()
    torch.set_num_threads(1)
    count = 10 if args.quick else 30
    rows: list[tuple[str, str, float, float]] = []

    rows.append(("synthetic", "256×512, generated", *timed(pass_over(SyntheticStreets(count, 0, (256, 512))),
                                                           args.repeats)))
    if (SHARED / "cityscapes-mini-aligned").is_dir():
        aligned = AlignedSource(SHARED / "cityscapes-mini-aligned", "BtoA", "train")
        rows.append(("aligned", "256×512 JPEG, shared data", *timed(pass_over(aligned), args.repeats)))
    else:
        print(f"(skipping aligned: {SHARED / 'cityscapes-mini-aligned'} is absent)")
    if (SHARED / "cityscapes-mini").is_dir():
        cityscapes = CityscapesSource(SHARED / "cityscapes-mini", "train")
        rows.append(("cityscapes", "1024×2048 PNG, shared data",
                     *timed(pass_over(cityscapes, 4 if args.quick else 8), max(1, args.repeats // 2))))
    else:
        print(f"(skipping cityscapes: {SHARED / 'cityscapes-mini'} is absent)")
    with tempfile.TemporaryDirectory() as tmp:
        folders = make_folders(Path(tmp), 8 if args.quick else 16)
        rows.append(("folders", "256×512 JPEG + labelIds PNG", *timed(pass_over(folders), args.repeats)))

    cfg = DataConfig()  # default transforms: resize 286×286, random crop 256×256, flip
    synthetic_ds = PairDataset(SyntheticStreets(count, 0, cfg.load_size), cfg, seed=0, train=True)
    rows.append(("loader: synthetic", "generated at 286×286 + transforms",
                 *timed(pass_over(synthetic_ds), args.repeats)))
    if (SHARED / "cityscapes-mini-aligned").is_dir():
        aligned_ds = PairDataset(aligned, cfg, seed=0, train=True)
        rows.append(("loader: aligned", "decode + snap + transforms", *timed(pass_over(aligned_ds), args.repeats)))
    rows.append(("train step, ngf 8", "G+D fwd/bwd, batch 1, 256×256", *train_step_rate(8, args.repeats)))
    if not args.quick:
        rows.append(("train step, ngf 64", "G+D fwd/bwd, batch 1, 256×256",
                     *train_step_rate(64, max(1, args.repeats // 2))))

    print(f"\nmedian of {args.repeats} runs, one thread ({os.cpu_count()} CPUs on this machine, "
          f"load average {format_load(load_average())})\n")
    print("| what | details | per second (wall) | per second (CPU time) | ms each (CPU) |")
    print("|---|---|---:|---:|---:|")
    for name, details, wall, cpu in rows:
        print(f"| {name} | {details} | {wall:.1f} | {cpu:.1f} | {1000 / cpu:.1f} |")


if __name__ == "__main__":
    main()
