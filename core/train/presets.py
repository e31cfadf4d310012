"""Named training recipes (RunConfig presets) for `roadstudio-cli train --preset NAME` and the
training panel.

- "default-model": the recipe of the bundled resources/models/default.safetensors (see
  resources/models/MODEL_CARD.md and scripts/train_default_model.sh). Small enough for a live
  preview on a 2-core CPU: a depth-7 U-Net with ngf 16 and a resize decoder, trained on real
  street photos (CamVid train + val and the Cityscapes frames of cityscapes-mini at several
  scales, one frame kept out for checking).
- "photo-edit": the bundled photo-edit model (core.edit): the default model's size, conditioned on
  the label map and the photo with a hole.
- "quick-cpu": a few minutes on a laptop CPU, to see a run working end to end.
- "paper": the pix2pix paper's settings (Isola et al. 2017, the Cityscapes labels -> photo setup).

A preset is a complete RunConfig; command-line flags and the panel's fields override single
settings on top of it (dataclasses.replace), so a preset never hides a setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from core.config import DataConfig, DiscriminatorConfig, GeneratorConfig, RunConfig, TrainConfig
from core.errors import ConfigError

#: Where the default model's real photos live relative to the repository root (the shared data
#: folder beside the checkout); `--data`, `--extra-data` and the panel can point elsewhere.
CAMVID = "../shared/data/camvid"
CITYSCAPES_MINI = "../shared/data/cityscapes-mini"
CITYSCAPES_SEQ = "../shared/data/cityscapes-seq"
#: The frame never trained on: the model card's "held-out frame" metrics come from it.
HELD_OUT_FRAME = "aachen_000007_000019"
#: The video clip held out for validation by the every-brush recipe (all its frames; also the
#: cityscapes-mini frame cut from it): frames of one clip are near copies, so holding out single
#: frames would leak.
HELD_OUT_CLIP = "aachen_000005"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str  # short label for menus
    description: str  # one or two sentences for tooltips and `--help`
    build: Callable[[], RunConfig]

    def config(self) -> RunConfig:
        return self.build()


def _default_model() -> RunConfig:
    return RunConfig(
        name="default-model",
        # ngf 16: the preview at 256×512 stays well under 100 ms on a 2-core CPU; ngf 32 would be
        # ~4× slower and 4× larger. Batch norm, not instance norm: in eval mode it is a fixed
        # per-channel affine map, so a canvas of any size renders like the training crops. Depth
        # 7 (not 8): trained on 128×128 crops, 4× cheaper per step than 256×256 on a CPU; it
        # still sees a 256×512 canvas whole (receptive field > 256 px). The resize decoder
        # (×2 nearest + 3×3 conv) draws no checkerboard grid; see docs/output_quality.md.
        generator=GeneratorConfig(arch="unet", depth=7, ngf=16, norm="batch", dropout=True,
                                  input_encoding="onehot", upsample="resize"),
        # ndf 32 instead of 64: half the discriminator cost per step on a CPU; 70×70 patches at
        # two scales (pix2pixHD), so the coarse scale judges whole cars and facades.
        discriminator=DiscriminatorConfig(ndf=32, n_layers=3, norm="batch", scales=2),
        data=DataConfig(
            # Real street photos: CamVid train + val (468 frames of 360×480), 3 % held out for
            # validation, plus the Cityscapes frames (another city and camera) at several scales.
            # 128×128 crops covering 36-75 % of the image height, so objects appear at about the
            # size they have on a 256×512 canvas, a bit smaller and a bit larger.
            path=CAMVID, format="auto", train_splits=("train", "val"), val_fraction=0.03,
            load_size=(360, 480), crop_size=(128, 128), preprocess="multiscale_crop", crop_scale=(0.3, 0.75),
            flip=True,
            # 454 CamVid frames + 7 Cityscapes frames × 20 crops = 594 pairs an epoch.
            extra_paths=(CITYSCAPES_MINI,), extra_repeat=20,
            exclude=(f"*{HELD_OUT_FRAME}*",),
        ),
        # pix2pixHD's feature matching (λ 10) on top of the paper's λ_L1 100: it steadies the
        # GAN on a small data set and sharpens textures without a pretrained VGG.
        # channels_last also at batch 1: at this size oneDNN's NHWC convolutions made the CPU step
        # 1.06-1.17× faster at batch 1 and NCHW cost 20 % at batch 4 (benchmarks/train_step_bench.py,
        # docs/performance.md); with the loop's fused Adam that is the preset's speed recipe.
        train=TrainConfig(gan_mode="vanilla", lambda_l1=100.0, lambda_feat=10.0, lr=2e-4, batch_size=1, epochs=25,
                          epochs_decay=25, seed=0, device="auto", channels_last=True, checkpoint_every=1000,
                          sample_every=250, keep_checkpoints=40),
    )


def _every_brush() -> RunConfig:
    """Fine-tune a model on every brush class (issue 18): the default model's architecture with
    class-adaptive decoder modulation, started from the bundled default model (`init_from`), on
    data that holds every brush class, rare classes drawn more often, an EMA of G. The bundled
    version 0.3 model is this recipe started from version 0.2 (EMA at step 1,500, chosen on
    validation; docs/output_quality.md). Started from the bundled model it continues from there."""
    base = _default_model()
    return base.replace(
        name="every-brush",
        generator=dataclasses.replace(base.generator, modulation="clade"),
        data=dataclasses.replace(
            base.data,
            # CamVid train + val (3 % held out), the 180 Cityscapes video frames of cityscapes-seq
            # (terrain, wall, truck, bus, ...) and the 8 hand-labelled Cityscapes frames ×8; clip
            # aachen_000005 validates, one frame is never used.
            extra_paths=(CITYSCAPES_SEQ, CITYSCAPES_MINI), extra_repeats=(1, 8),
            holdout=(f"*{HELD_OUT_CLIP}_*",), exclude=(f"*{HELD_OUT_FRAME}*",),
            # LVIS repeat factors (1.29× the frames an epoch), crops around the rare class half the
            # time. No painting-like label maps: in the fine-tuning study the 30 % arm scored below
            # the 0 % arm on validation at every checkpoint and no better on the painted set.
            rare_threshold=0.3, rare_crop_prob=0.5, painted_share=0.0),
        # 1 + 2 epochs of ~842 pairs = 2,526 steps (about 8 minutes on one free CPU core) at half
        # the from-scratch learning rate: longer fine-tuning drifted away from the CamVid look
        # (validation mIoU fell back to the starting model's after ~8,000 steps at 1e-4 constant).
        # Checkpoints every 250 steps to choose the EMA step on validation.
        train=dataclasses.replace(base.train, epochs=1, epochs_decay=2, ema_decay=0.999, lr=1e-4,
                                  init_from="default", checkpoint_every=250, keep_checkpoints=12),
    )


def _photo_edit() -> RunConfig:
    """The bundled photo-edit model (resources/models/photo_edit.safetensors, PHOTO_EDIT_CARD.md):
    the default model's size, conditioned on the label map and the photo with a hole (core.edit).
    Real photos only — the photo around the hole has to be real for the model to learn to
    continue it: CamVid train + val (3 % held out) and the 180 Cityscapes video frames of
    cityscapes-seq, whose clip aachen_000005 validates (and is the held-out clip of
    docs/photo_editing.md). Random holes, L1 per hole pixel and D on the composite:
    core.edit.training."""
    base = _default_model()
    return base.replace(
        name="photo-edit",
        # Started from the bundled default model (version 0.3: class-modulated), its first
        # convolutions widened with zero weights for the photo and the hole (core.train.warm_start).
        generator=dataclasses.replace(base.generator, condition="labels+photo", modulation="clade"),
        data=dataclasses.replace(
            base.data, extra_paths=(CITYSCAPES_SEQ,), extra_repeat=1,
            holdout=(f"*{HELD_OUT_CLIP}_*",), exclude=()),
        # ~604 pairs an epoch (454 CamVid + 150 Cityscapes frames). The bundled photo-edit
        # model was warm-started the same way from the version 0.2 default model (no class
        # modulation; by a one-off script before `init_from` existed), then 0 + 1 epochs = 604
        # steps at lr 1e-4 (a fine-tune). Chosen on the
        # validation pairs over a 1,812-step warm run (2 + 1 epochs, which scored lower there) and a
        # 1,208-step run from scratch (which learned the photo's colours but hardly the labels):
        # docs/photo_editing.md. Checkpoints every 500 steps, all kept, to choose on validation.
        train=dataclasses.replace(base.train, epochs=0, epochs_decay=1, checkpoint_every=500,
                                  sample_every=250, keep_checkpoints=40, init_from="default"),
    )


def _quick_cpu() -> RunConfig:
    # Shows a model learning within minutes on a 2-core laptop CPU: 128×128 crops, a depth-7
    # U-Net (unet_128) with 32 base filters (ngf 64 would cost 4× the compute), batch 4, 4 + 4
    # epochs over 320 synthetic pairs = 640 steps at ~0.54 CPU-seconds each (3-6 minutes in all).
    # Samples often, so the training panel has pictures after the first ~10 seconds.
    return RunConfig(
        name="quick-cpu",
        generator=GeneratorConfig(arch="unet", depth=7, ngf=32, norm="batch", dropout=True, input_encoding="onehot"),
        discriminator=DiscriminatorConfig(ndf=32, n_layers=3, norm="batch"),
        data=DataConfig(path="synthetic", load_size=(143, 143), crop_size=(128, 128), preprocess="resize_and_crop",
                        synthetic_count=320, val_fraction=0.05),
        train=TrainConfig(gan_mode="vanilla", lambda_l1=100.0, lr=2e-4, batch_size=4, epochs=4, epochs_decay=4,
                          device="auto", checkpoint_every=80, sample_every=20),
    )


def _paper() -> RunConfig:
    return RunConfig(
        name="paper",
        # The paper feeds the colour label image (3 channels), as the reference code does.
        generator=GeneratorConfig(arch="unet", depth=8, ngf=64, norm="batch", dropout=True, input_encoding="color"),
        discriminator=DiscriminatorConfig(ndf=64, n_layers=3, norm="batch"),
        data=DataConfig(path="synthetic", load_size=(286, 286), crop_size=(256, 256), preprocess="resize_and_crop",
                        flip=True),
        train=TrainConfig(gan_mode="vanilla", lambda_l1=100.0, lr=2e-4, beta1=0.5, batch_size=1, epochs=100,
                          epochs_decay=100),
    )


PRESETS: dict[str, Preset] = {
    p.name: p for p in (
        Preset("default-model", "Default model recipe",
               "The bundled default model: U-Net ngf 16 with a resize decoder, two-scale PatchGAN with feature "
               "matching, on CamVid train+val and Cityscapes frames (one kept out), 50 epochs.", _default_model),
        Preset("every-brush", "Every brush (issue 18 recipe)",
               "The default model's size on CamVid + Cityscapes video clips (every brush class), rare classes "
               "drawn more often, 30 % painting-like label maps, class-adaptive decoder modulation, EMA of G; "
               "24 epochs.", _every_brush),
        Preset("photo-edit", "Photo edit (issue 19)",
               "The default model's size conditioned on the label map and the photo with a hole (repaints only "
               "the hole): CamVid train+val and Cityscapes video clips (clip aachen_000005 held out), random brush "
               "and object holes, L1 per hole pixel, D on the composite; a 1-epoch fine-tune (the bundled model "
               "starts from the bundled default model: --init-from default).", _photo_edit),
        Preset("quick-cpu", "Quick look on CPU",
               "unet_128 with ngf 32 on 128×128 synthetic scenes, batch 4, 640 steps: a few minutes on a laptop CPU.",
               _quick_cpu),
        Preset("paper", "Paper pix2pix",
               "Isola et al. 2017: unet_256 ngf 64, 70×70 PatchGAN, λ 100, 100+100 epochs, batch 1, "
               "286→256 crops, batch norm, vanilla GAN, lr 2e-4.", _paper),
    )
}


def preset_names() -> list[str]:
    return list(PRESETS)


def preset_config(name: str) -> RunConfig:
    """The RunConfig of preset `name`; ConfigError listing the presets for an unknown name."""
    try:
        return PRESETS[name].config()
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
