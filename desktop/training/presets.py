"""Run presets of the set-up form and the discriminator patch-size choices (plain data, no Qt)."""

from __future__ import annotations

from core.config import DataConfig, DiscriminatorConfig, GeneratorConfig, RunConfig, TrainConfig

#: Patch size seen by one discriminator output -> PatchGAN n_layers (pix2pix paper, Fig. 6).
PATCH_SIZES: dict[int, int] = {1: 0, 16: 1, 70: 3, 286: 5}

QUICK_LOOK = "Quick look on CPU"
PAPER = "Paper pix2pix (unet_256, 70×70 PatchGAN, λ 100, 200 epochs)"
CUSTOM = "Custom"


def quick_look_config(data_path: str = "synthetic") -> RunConfig:
    """Shows a model learning within minutes on a 2-core laptop CPU: 128×128 crops, a depth-7
    U-Net (unet_128) with 32 base filters (10.5 M parameters; ngf 64 would cost 4× the compute),
    batch 4, 4 + 4 epochs over 320 synthetic pairs = 640 steps. Measured cost: 0.54 CPU-seconds
    per step on one core of the development machine, so about 3-6 minutes in all. Sample often so
    the monitor has pictures after the first ~10 seconds."""
    return RunConfig(
        name="quick-look",
        generator=GeneratorConfig(depth=7, ngf=32, norm="batch", dropout=True, input_encoding="onehot"),
        discriminator=DiscriminatorConfig(ndf=32, n_layers=3, norm="batch"),
        data=DataConfig(path=data_path, load_size=(143, 143), crop_size=(128, 128), synthetic_count=320,
                        val_fraction=0.05),
        train=TrainConfig(batch_size=4, epochs=4, epochs_decay=4, sample_every=20, checkpoint_every=80,
                          device="auto"),
    )


def paper_config(data_path: str = "synthetic") -> RunConfig:
    """The pix2pix paper / reference defaults: unet_256 (depth 8, ngf 64, BatchNorm, dropout),
    70×70 PatchGAN, vanilla GAN + λ 100 L1, Adam 2e-4 (0.5, 0.999), batch 1, 286 → 256 random crop
    with flips, 100 epochs then 100 epochs of linear decay."""
    return RunConfig(
        name="pix2pix",
        generator=GeneratorConfig(depth=8, ngf=64, norm="batch", dropout=True, input_encoding="onehot"),
        discriminator=DiscriminatorConfig(ndf=64, n_layers=3, norm="batch"),
        data=DataConfig(path=data_path, load_size=(286, 286), crop_size=(256, 256)),
        train=TrainConfig(gan_mode="vanilla", lambda_l1=100.0, lr=2e-4, batch_size=1, epochs=100,
                          epochs_decay=100, sample_every=100, checkpoint_every=500, device="auto"),
    )


PRESETS = {QUICK_LOOK: quick_look_config, PAPER: paper_config}


def patch_size_for_layers(n_layers: int) -> int | None:
    for size, layers in PATCH_SIZES.items():
        if layers == n_layers:
            return size
    return None
