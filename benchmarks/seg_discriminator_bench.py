"""Training-step cost of the issue-18 variants against the plain PatchGAN step: class-adaptive
decoder modulation (CLADE), OASIS's segmentation discriminator, and painting-like label maps.

    OMP_NUM_THREADS=1 python -m benchmarks.seg_discriminator_bench [--steps N] [--batch B] [--size S]

At the default model's size (core.train.presets "default-model": depth-7 ngf-16 resize U-Net; two-scale
ndf-32 70×70 PatchGAN with feature matching) it times core/train/loop.py's own `_Run._optimize`
(G forward, every discriminator's step, G's step, the loop's one loss sync) on fixed random
tensors for: the PatchGAN without CLADE (the baseline), with CLADE, and with CLADE for
DiscriminatorConfig.kind "segmentation" and "patch+segmentation", interleaved step by step so
machine noise hits all alike. Prints the median and p95 step time per variant and its ratio to
the baseline's median (> 1 = slower), and the discriminators' parameter counts; then the cost of
one painting-like label map (core.data.painting.paint_like on a 128×128 crop, paid by a share of
the training pairs in the data pipeline). Nothing is asserted.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before importing torch (see training_bench)

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace

import torch

from benchmarks.common import machine, p95
from core.config import DiscriminatorKind, Modulation
from core.models.encoding import encode_labels
from core.models import build_discriminator, build_generator, count_parameters
from core.train.presets import preset_config
from core.train import loop
from core.train.losses import GANLoss
from core.train.seg_adversary import SegAdversary, palette_classes

#: variant -> (discriminator kind, decoder modulation)
VARIANTS: dict[str, tuple[DiscriminatorKind, Modulation]] = {
    "patch": ("patch", "none"),
    "patch + CLADE": ("patch", "clade"),
    "segmentation + CLADE": ("segmentation", "clade"),
    "patch+segmentation + CLADE": ("patch+segmentation", "clade"),
}


def bare_step(variant: str, batch: int, size: int) -> tuple[Callable[[], None], int]:
    kind, modulation = VARIANTS[variant]
    base = preset_config("default-model")
    cfg = base.replace(discriminator=dataclasses.replace(base.discriminator, kind=kind),
                       generator=dataclasses.replace(base.generator, modulation=modulation),
                       train=dataclasses.replace(base.train, device="cpu", batch_size=batch))
    device = torch.device("cpu")
    torch.manual_seed(0)
    g = build_generator(cfg.generator)
    d = build_discriminator(cfg.discriminator, cfg.generator) if cfg.discriminator.uses_patch else None
    t = cfg.train
    run = SimpleNamespace(
        g=g, d=d, cfg=cfg, inject_nan_at_step=None, bf16=False, gan_loss=GANLoss(t.gan_mode),
        opt_g=torch.optim.Adam(g.parameters(), lr=t.lr, betas=(t.beta1, t.beta2)),
        opt_d=torch.optim.Adam(d.parameters(), lr=t.lr, betas=(t.beta1, t.beta2)) if d is not None else None,
        seg=SegAdversary(cfg, device) if cfg.discriminator.uses_segmentation else None)
    run._autocast = lambda: loop._Run._autocast(run)  # type: ignore[arg-type]  # noqa: SLF001 - times the loop's own step, not a copy of it
    gen = torch.Generator().manual_seed(1)
    # Blocky label maps (palette classes on 16 px blocks), as street scenes have regions.
    from core.labels import PALETTE_IDS

    blocks = torch.randint(0, len(PALETTE_IDS), (batch, size // 16, size // 16), generator=gen)
    ids = torch.from_numpy(PALETTE_IDS)[blocks].repeat_interleave(16, 1).repeat_interleave(16, 2)
    x = encode_labels(ids, cfg.generator.input_encoding)
    real = torch.rand(batch, 3, size, size, generator=gen) * 2 - 1
    classes = palette_classes(ids) if run.seg is not None else None
    n = [0]

    def step() -> None:
        n[0] += 1
        _, losses = loop._Run._optimize(run, x, real, step_number=n[0], classes=classes)  # type: ignore[arg-type]  # noqa: SLF001 - times the loop's own step, not a copy of it
        torch.stack(list(losses.values())).detach().float().tolist()  # the loop's one sync per step

    params = (count_parameters(d) if d is not None else 0) + (count_parameters(run.seg.plain) if run.seg else 0)
    return step, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="timed steps per kind (after 3 warm-up steps)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    steps = {variant: bare_step(variant, args.batch, args.size) for variant in VARIANTS}
    for _ in range(3):
        for step, _ in steps.values():
            step()
    times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.steps):
        for kind, (step, _) in steps.items():
            t0 = time.perf_counter()
            step()
            times[kind].append(time.perf_counter() - t0)
    print(f"machine: {machine()}")
    print(f"default-model G and D, batch {args.batch}, {args.size}×{args.size}, {args.steps} timed steps each, "
          f"torch threads {torch.get_num_threads()}")
    base = statistics.median(times["patch"])
    print("| variant | D params | step median (ms) | p95 (ms) | × PatchGAN step |")
    print("|---|---:|---:|---:|---:|")
    for variant in VARIANTS:
        med = statistics.median(times[variant])
        print(f"| {variant} | {steps[variant][1]:,} | {med * 1e3:.0f} | {p95(times[variant]) * 1e3:.0f} | "
              f"{med / base:.2f} |")
    paint_times = _paint_times(args.size, args.steps)
    print(f"\npainting-like label map (paint_like) on a {args.size}×{args.size} crop: median "
          f"{statistics.median(paint_times) * 1e3:.1f} ms, p95 {p95(paint_times) * 1e3:.1f} ms "
          f"({statistics.median(paint_times) / base:.2f} of a PatchGAN step, paid by painted_share of the pairs)")


def _paint_times(size: int, count: int) -> list[float]:
    import numpy as np

    from core.data.painting import paint_like
    from core.labels import PALETTE_IDS

    rng = np.random.default_rng(0)
    # a street-like map: horizontal bands of classes with ragged, real-map-like noise
    ids = np.repeat(PALETTE_IDS[rng.integers(1, 20, size // 8)], 8)[:, None].repeat(size, 1).astype(np.uint8)
    ids[rng.random(ids.shape) < 0.05] = PALETTE_IDS[3]
    out = []
    for k in range(count):
        t0 = time.perf_counter()
        paint_like(ids, np.random.default_rng(k))
        out.append(time.perf_counter() - t0)
    return out


if __name__ == "__main__":
    main()
