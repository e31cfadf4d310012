"""Training-step cost of OASIS's segmentation discriminator against the PatchGAN (issue 18).

    OMP_NUM_THREADS=1 python benchmarks/seg_discriminator_bench.py [--steps N] [--batch B] [--size S]

At the default model's size (core.presets "default-model": depth-7 ngf-16 resize U-Net; two-scale
ndf-32 70×70 PatchGAN with feature matching) it times core/train/loop.py's own `_Run._optimize`
(G forward, every discriminator's step, G's step, the loop's one loss sync) on fixed random
tensors for DiscriminatorConfig.kind "patch" (the baseline), "segmentation" and
"patch+segmentation", interleaved step by step so machine noise hits all alike. Prints the median
and p95 step time per kind and its ratio to the PatchGAN step's median (> 1 = slower), and the
discriminators' parameter counts. Nothing is asserted.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before importing torch (see training_bench)

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import torch  # noqa: E402

from benchmarks.common import machine, p95  # noqa: E402
from core.encoding import encode_labels  # noqa: E402
from core.models import build_discriminator, build_generator, count_parameters  # noqa: E402
from core.presets import preset_config  # noqa: E402
from core.train import loop  # noqa: E402
from core.train.losses import GANLoss  # noqa: E402
from core.train.seg_adversary import SegAdversary, palette_classes  # noqa: E402

KINDS = ("patch", "segmentation", "patch+segmentation")


def bare_step(kind: str, batch: int, size: int) -> tuple[Callable[[], None], int]:
    base = preset_config("default-model")
    cfg = base.replace(discriminator=dataclasses.replace(base.discriminator, kind=kind),
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
    run._autocast = lambda: loop._Run._autocast(run)  # type: ignore[arg-type]
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
        _, losses = loop._Run._optimize(run, x, real, step_number=n[0], classes=classes)  # type: ignore[arg-type]
        torch.stack(list(losses.values())).detach().float().tolist()  # the loop's one sync per step

    params = (count_parameters(d) if d is not None else 0) + (count_parameters(run.seg.plain) if run.seg else 0)
    return step, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="timed steps per kind (after 3 warm-up steps)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    steps = {kind: bare_step(kind, args.batch, args.size) for kind in KINDS}
    for _ in range(3):
        for step, _ in steps.values():
            step()
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(args.steps):
        for kind, (step, _) in steps.items():
            t0 = time.perf_counter()
            step()
            times[kind].append(time.perf_counter() - t0)
    print(f"machine: {machine()}")
    print(f"default-model G and D, batch {args.batch}, {args.size}×{args.size}, {args.steps} timed steps each, "
          f"torch threads {torch.get_num_threads()}")
    base = statistics.median(times["patch"])
    print(f"| discriminator | D params | step median (ms) | p95 (ms) | × PatchGAN step |")
    print("|---|---:|---:|---:|---:|")
    for kind in KINDS:
        med = statistics.median(times[kind])
        print(f"| {kind} | {steps[kind][1]:,} | {med * 1e3:.0f} | {p95(times[kind]) * 1e3:.0f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
