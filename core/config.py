"""Frozen, typed configuration for models, data and training runs, with TOML in/out.

A run folder's `config.toml` holds a `RunConfig`: everything needed to rebuild the models and
resume the run. Validation happens in `__post_init__`, so an invalid config cannot exist; the
error names the setting and what is allowed (the GUI form shows the same message).
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

from core.io.atomic import atomic_write_text
from core.errors import ConfigError
from core.labels import NUM_PALETTE_CLASSES

Arch = Literal["unet", "encoder_decoder"]
Norm = Literal["batch", "instance", "none"]
Encoding = Literal["onehot", "color"]
GanMode = Literal["vanilla", "lsgan"]
DataFormat = Literal["auto", "aligned", "cityscapes", "folders", "camvid", "synthetic"]
Direction = Literal["AtoB", "BtoA"]
# multiscale_crop: a random crop covering crop_scale of the image (never smaller than crop_size
# pixels), resized to crop_size; for large photos (Cityscapes 1024×2048) seen at several scales.
Preprocess = Literal["resize_and_crop", "resize", "none", "multiscale_crop"]
Device = Literal["auto", "cpu", "cuda", "mps"]
# How the U-Net decoder doubles the resolution: the paper's 4×4 stride-2 transposed convolution, or
# a ×2 nearest-neighbour resize followed by a 3×3 convolution (Odena et al. 2016, "Deconvolution
# and checkerboard artifacts"): every output pixel then gets the same number of kernel taps, so
# the decoder cannot paint the period-2^k grids that transposed convolutions leave.
Upsample = Literal["transpose", "resize"]
# How the label map steers the decoder: only through the input ("none", the paper), or also at
# every decoder level by class-adaptive normalisation ("clade", Tan et al. 2021, SPADE's idea with
# per-class tables): the activations are normalised without an affine and then scaled/shifted per
# pixel by a learned (gamma, beta) of the pixel's painted class, looked up from the label map
# resized to that level. Needs the onehot input encoding (the lookup reads the one-hot channels).
Modulation = Literal["none", "clade"]
# Which discriminator(s) judge G: the PatchGAN of pix2pix (the paper's; `ndf`, `n_layers`, `scales`),
# OASIS's segmentation discriminator (photo only -> per pixel one of the classes or "fake";
# core.models.seg_discriminator), or both side by side, each with its own optimizer.
DiscriminatorKind = Literal["patch", "segmentation", "patch+segmentation"]
# What the generator is conditioned on: the label map alone (every model before issue 19), or the
# label map plus a photo with a region masked out and the mask ("labels+photo": the photo-edit
# model of core.edit, which repaints only the masked region and continues the photo around it).
# The extra input channels are the masked photo (RGB in [-1, 1], 0 in the hole) and the hole mask
# (1 = paint here): core.models.encoding.encode_input.
Condition = Literal["labels", "labels+photo"]
#: Input channels a "labels+photo" generator takes beyond the label encoding: masked RGB + mask.
PHOTO_CONDITION_CHANNELS = 4

#: Named generator presets accepted by --netG.
NETG_PRESETS: dict[str, tuple[str, int]] = {
    "unet_256": ("unet", 8),
    "unet_128": ("unet", 7),
    "encoder_decoder": ("encoder_decoder", 8),
}


def _check_choice(obj: Any, name: str) -> None:
    hint = get_type_hints(type(obj))[name]
    allowed = get_args(hint)
    value = getattr(obj, name)
    if allowed and value not in allowed:
        raise ConfigError(f"{name} = {value!r} is not one of {', '.join(map(str, allowed))}")


def _check_positive(obj: Any, *names: str) -> None:
    for name in names:
        if getattr(obj, name) <= 0:
            raise ConfigError(f"{name} must be positive, got {getattr(obj, name)!r}")


@dataclass(frozen=True)
class GeneratorConfig:
    arch: Arch = "unet"
    depth: int = 8  # number of stride-2 downsamplings; inputs must be multiples of 2**depth
    ngf: int = 64  # filters in the outermost conv; the reference uses 64
    norm: Norm = "batch"
    dropout: bool = True  # 0.5 dropout in the innermost up blocks, as in the paper
    input_encoding: Encoding = "onehot"
    output_nc: int = 3
    upsample: Upsample = "transpose"  # the paper's (and every reference checkpoint's) decoder
    modulation: Modulation = "none"  # "clade": class-adaptive modulation in every decoder block
    condition: Condition = "labels"  # "labels+photo": the photo-edit generator (core.edit)

    def __post_init__(self) -> None:
        for name in ("arch", "norm", "input_encoding", "upsample", "modulation", "condition"):
            _check_choice(self, name)
        if self.modulation != "none" and self.input_encoding != "onehot":
            raise ConfigError(f"modulation = {self.modulation!r} needs input_encoding = 'onehot' "
                              f"(the per-class lookup reads the one-hot label channels)")
        _check_positive(self, "ngf", "output_nc")
        if not 2 <= self.depth <= 10:
            raise ConfigError(f"depth must be between 2 and 10, got {self.depth}")

    @property
    def label_nc(self) -> int:
        """Channels of the label encoding (the first channels of the input)."""
        return NUM_PALETTE_CLASSES if self.input_encoding == "onehot" else 3

    @property
    def input_nc(self) -> int:
        return self.label_nc + (PHOTO_CONDITION_CHANNELS if self.photo_conditioned else 0)

    @property
    def photo_conditioned(self) -> bool:
        return self.condition == "labels+photo"

    @property
    def size_multiple(self) -> int:
        return 2**self.depth


@dataclass(frozen=True)
class DiscriminatorConfig:
    ndf: int = 64
    n_layers: int = 3  # 0 = 1×1 pixel GAN, 1 = 16×16, 3 = 70×70, 5 = 286×286 patches
    norm: Norm = "batch"
    # pix2pixHD's multi-scale PatchGAN: this many discriminators of the same architecture (own
    # weights), on the image at ×1, ×1/2, ×1/4, ...; a coarser scale judges larger structures
    # with the same patch size. 1 = the paper's single PatchGAN.
    scales: int = 1
    kind: DiscriminatorKind = "patch"
    seg_ndf: int = 16  # the segmentation discriminator's base width (its own, not ndf)
    seg_spectral_norm: bool = True  # spectral norm on its convolutions (OASIS uses it; no BatchNorm)

    def __post_init__(self) -> None:
        _check_choice(self, "norm")
        _check_choice(self, "kind")
        _check_positive(self, "ndf", "seg_ndf")
        if not 0 <= self.n_layers <= 6:
            raise ConfigError(f"n_layers must be between 0 and 6, got {self.n_layers}")
        if not 1 <= self.scales <= 4:
            raise ConfigError(f"scales must be between 1 and 4, got {self.scales}")

    @property
    def receptive_field(self) -> int:
        """Patch size seen by one output of the discriminator (70 for n_layers=3)."""
        if self.n_layers == 0:
            return 1
        rf = 1
        # last two stride-1 4×4 convs, then n_layers stride-2 4×4 convs, walked backwards
        for stride in [1, 1] + [2] * self.n_layers:
            rf = (rf - 1) * stride + 4
        return rf

    @property
    def uses_patch(self) -> bool:
        return self.kind in ("patch", "patch+segmentation")

    @property
    def uses_segmentation(self) -> bool:
        return self.kind in ("segmentation", "patch+segmentation")


@dataclass(frozen=True)
class DataConfig:
    path: str = "synthetic"  # a dataset folder, or "synthetic" for built-in street scenes
    format: DataFormat = "auto"
    direction: Direction = "BtoA"  # which half is the label map in aligned A|B images: BtoA = label right
    load_size: tuple[int, int] = (286, 286)  # (height, width) before random crop
    crop_size: tuple[int, int] = (256, 256)  # (height, width) fed to the networks
    preprocess: Preprocess = "resize_and_crop"
    flip: bool = True  # horizontal flips only; never vertical flips for street scenes
    val_fraction: float = 0.1  # share of pairs held out for validation when there is no val split
    synthetic_count: int = 1000  # pairs per epoch when path == "synthetic"
    num_workers: int = 0
    # Training on several sources at once: these datasets are added to `path`'s training pairs,
    # each pair `extra_repeat` times per epoch (a few real frames next to many synthetic ones).
    extra_paths: tuple[str, ...] = ()
    extra_repeat: int = 1
    # fnmatch patterns on a pair's description (e.g. "*aachen_000007*"): such pairs are never
    # trained or validated on (a frame kept out for checking).
    exclude: tuple[str, ...] = ()
    crop_scale: tuple[float, float] = (0.25, 1.0)  # multiscale_crop: crop side as a share of the image
    # Train on these splits of `path` together (e.g. ("train", "val") for a final model); the
    # validation set is then a seeded val_fraction holdout of them. Empty = the usual: train/
    # trains and val/ (when present) validates.
    train_splits: tuple[str, ...] = ()
    # Per-path repeats for extra_paths (same order); empty = every extra path extra_repeat times.
    extra_repeats: tuple[int, ...] = ()
    # fnmatch patterns on a pair's description: matching pairs of the training sources are moved to
    # validation (hold out whole clips, e.g. "*aachen_000005_*": frames of a clip are near copies).
    holdout: tuple[str, ...] = ()
    # Rare-class-aware sampling (core.data.rare), LVIS's repeat-factor rule: a class present in a
    # share f of the training frames gets r = max(1, sqrt(rare_threshold / f)); a frame is repeated
    # (rounded) max r over its classes times an epoch, at most rare_max_repeat. 0 = off.
    rare_threshold: float = 0.0
    rare_max_repeat: int = 8
    # Chance that a crop of a frame holding a rare class is placed around one of its pixels.
    rare_crop_prob: float = 0.0
    # Share of training pairs whose label map is replaced by a painting-like simplification
    # (core.data.painting: mode filter, boxy objects, smooth warps); the photo is unchanged.
    painted_share: float = 0.0

    def __post_init__(self) -> None:
        for name in ("format", "direction", "preprocess"):
            _check_choice(self, name)
        object.__setattr__(self, "load_size", tuple(int(v) for v in self.load_size))
        object.__setattr__(self, "crop_size", tuple(int(v) for v in self.crop_size))
        if len(self.load_size) != 2 or len(self.crop_size) != 2:
            raise ConfigError("load_size and crop_size are (height, width)")
        if min(self.crop_size) <= 0 or min(self.load_size) <= 0:
            raise ConfigError("load_size and crop_size must be positive")
        if self.preprocess == "resize_and_crop" and (
            self.crop_size[0] > self.load_size[0] or self.crop_size[1] > self.load_size[1]
        ):
            raise ConfigError(f"crop_size {self.crop_size} is larger than load_size {self.load_size}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.synthetic_count <= 0:
            raise ConfigError("synthetic_count must be positive")
        if self.num_workers < 0:
            raise ConfigError("num_workers must be >= 0")
        object.__setattr__(self, "extra_paths", tuple(str(p) for p in self.extra_paths))
        object.__setattr__(self, "exclude", tuple(str(p) for p in self.exclude))
        object.__setattr__(self, "crop_scale", tuple(float(v) for v in self.crop_scale))
        object.__setattr__(self, "train_splits", tuple(str(p) for p in self.train_splits))
        if len(set(self.train_splits)) != len(self.train_splits):
            raise ConfigError(f"train_splits lists a split twice: {self.train_splits}")
        if self.extra_repeat <= 0:
            raise ConfigError("extra_repeat must be positive")
        if len(self.crop_scale) != 2 or not 0.0 < self.crop_scale[0] <= self.crop_scale[1] <= 1.0:
            raise ConfigError(f"crop_scale must be (low, high) with 0 < low <= high <= 1, got {self.crop_scale}")
        object.__setattr__(self, "extra_repeats", tuple(int(v) for v in self.extra_repeats))
        object.__setattr__(self, "holdout", tuple(str(p) for p in self.holdout))
        if self.extra_repeats and len(self.extra_repeats) != len(self.extra_paths):
            raise ConfigError(f"extra_repeats has {len(self.extra_repeats)} values for "
                              f"{len(self.extra_paths)} extra_paths; give one per path (or none)")
        if any(r <= 0 for r in self.extra_repeats):
            raise ConfigError(f"extra_repeats must be positive, got {self.extra_repeats}")
        if not 0.0 <= self.rare_threshold <= 1.0:
            raise ConfigError(f"rare_threshold must be in [0, 1], got {self.rare_threshold}")
        if self.rare_max_repeat < 1:
            raise ConfigError(f"rare_max_repeat must be >= 1, got {self.rare_max_repeat}")
        for name in ("rare_crop_prob", "painted_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")


@dataclass(frozen=True)
class TrainConfig:
    gan_mode: GanMode = "vanilla"
    lambda_l1: float = 100.0
    # pix2pixHD's discriminator feature-matching loss: λ_feat · L1 between D's intermediate
    # features of the fake and of the real photo (0 = off, as in the paper).
    lambda_feat: float = 0.0
    # Weight of the segmentation discriminator's term in G's loss (OASIS; DiscriminatorConfig.kind
    # "segmentation" or "patch+segmentation"): λ_seg · class-balanced CE of D_seg(fake) to the
    # painted classes. 1 = OASIS's own weight. Unused with kind "patch".
    lambda_seg: float = 1.0
    # OASIS's LabelMix regulariser of the segmentation discriminator (its λ_LM is 10; 0 = off).
    seg_labelmix: float = 0.0
    # Exponential moving average of the generator's weights (core.train.ema), e.g. 0.999; 0 = off.
    # When on, validation, samples, previews, pins and the checkpoints' weights files use the
    # average (the raw weights are written beside them as step_N.raw.safetensors).
    ema_decay: float = 0.0
    # Fine-tuning: a new run's generator (and its discriminator, when saved beside it) start from
    # these weights instead of random ones (core.train.warm_start); "default" = the bundled
    # default model; "" = random init. Ignored when a run resumes (its checkpoint has the weights).
    init_from: str = ""
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 1
    epochs: int = 100  # epochs at the initial learning rate
    epochs_decay: int = 100  # further epochs with the rate decaying linearly to zero
    max_steps: int = 0  # stop after this many optimizer steps (0 = run all epochs)
    seed: int = 0
    device: Device = "auto"
    bf16: bool = False  # bf16 autocast (CUDA only)
    channels_last: bool = False  # channels_last memory format (CUDA only)
    compile: bool = False  # torch.compile the generator and discriminator (CUDA only)
    sync_bn: bool = False  # SyncBatchNorm under torchrun
    checkpoint_every: int = 500  # steps
    sample_every: int = 100  # steps
    keep_checkpoints: int = 3  # step checkpoints kept besides the last and the best

    def __post_init__(self) -> None:
        for name in ("gan_mode", "device"):
            _check_choice(self, name)
        _check_positive(self, "lr", "batch_size", "checkpoint_every", "sample_every")
        if self.lambda_l1 < 0:
            raise ConfigError("lambda_l1 must be >= 0")
        if self.lambda_feat < 0:
            raise ConfigError("lambda_feat must be >= 0")
        if self.lambda_seg < 0:
            raise ConfigError("lambda_seg must be >= 0")
        if self.seg_labelmix < 0:
            raise ConfigError("seg_labelmix must be >= 0")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1) (0 = off, e.g. 0.999), got {self.ema_decay}")
        if self.epochs < 0 or self.epochs_decay < 0 or self.epochs + self.epochs_decay <= 0:
            raise ConfigError("epochs + epochs_decay must be positive (and neither negative)")
        if self.max_steps < 0:
            raise ConfigError("max_steps must be >= 0")
        if not (0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0):
            raise ConfigError("Adam betas must be in [0, 1)")

    @property
    def total_epochs(self) -> int:
        return self.epochs + self.epochs_decay


@dataclass(frozen=True)
class RunConfig:
    name: str = "run"
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    # Filled in by the trainer: world size and effective batch/lr under torchrun.
    world_size: int = 1

    def __post_init__(self) -> None:
        mult = self.generator.size_multiple
        h, w = self.data.crop_size
        if self.generator.arch == "unet" and (h % mult or w % mult):
            raise ConfigError(
                f"crop_size {h}×{w} must be a multiple of {mult} for a depth-{self.generator.depth} U-Net"
            )

    @property
    def effective_batch_size(self) -> int:
        return self.train.batch_size * self.world_size

    def replace(self, **sections: Any) -> RunConfig:
        return dataclasses.replace(self, **sections)


# ---------------------------------------------------------------------------------------- TOML


def to_dict(cfg: Any) -> dict[str, Any]:
    """A dataclass (nested) as plain dicts/lists/scalars."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = to_dict(value)
        elif isinstance(value, tuple):
            out[f.name] = list(value)
        else:
            out[f.name] = value
    return out


def _type_problem(hint: Any, value: Any) -> str | None:
    """What `value` should have been for a field typed `hint`, or None when it fits. A hand-edited
    TOML file can hold any type; checked here so the error names the setting instead of failing
    somewhere inside a comparison."""
    origin = typing.get_origin(hint)
    if hint is bool:
        return None if isinstance(value, bool) else "true or false"
    if hint is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "a whole number"
    if hint is float:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "a number"
    if hint is str:
        return None if isinstance(value, str) else "a string"
    if origin is Literal:
        return None if isinstance(value, str) else "one of " + ", ".join(map(repr, get_args(hint)))
    if origin is tuple:
        args = get_args(hint)
        if not isinstance(value, (list, tuple)):
            return "a list"
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            return f"a list of {len(items)} values"
        for item_hint, item in zip(items, value, strict=True):
            problem = _type_problem(item_hint, item)
            if problem is not None:
                return f"a list of {problem.removeprefix('a ').removeprefix('an ')}s" \
                    if problem.startswith(("a ", "an ")) else f"a list whose items are {problem}"
        return None
    return None  # other annotations: left to the dataclass's own checks


def from_dict(cls: type, data: dict[str, Any], section: str = "") -> Any:
    """Build dataclass `cls` from a dict; unknown keys and values of the wrong type are a
    ConfigError naming them."""
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"unknown setting(s) for {cls.__name__}: {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ConfigError(f"[{name}] must be a table")
            kwargs[name] = from_dict(hint, value, section=name)
            continue
        problem = _type_problem(hint, value)
        if problem is not None:
            where = f"{section}.{name}" if section else name
            raise ConfigError(f"{where} must be {problem}, got {value!r}")
        if isinstance(value, list):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"invalid {cls.__name__}: {exc}") from exc


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps_toml(data: dict[str, Any]) -> str:
    """Write a dict of scalars and one level of tables (all our configs need) as TOML."""
    lines: list[str] = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    for key, value in data.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables.items():
        lines.append("")
        lines.append(f"[{key}]")
        for sub_key, value in table.items():
            lines.append(f"{sub_key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def save_run_config(cfg: RunConfig, path: str | Path) -> None:
    atomic_write_text(path, "# Road Studio run configuration\n" + dumps_toml(to_dict(cfg)))


def load_run_config(path: str | Path) -> RunConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        return from_dict(RunConfig, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def generator_config_from_dict(data: dict[str, Any]) -> GeneratorConfig:
    return from_dict(GeneratorConfig, data)
