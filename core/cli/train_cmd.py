"""`roadstudio-cli train`: train a pix2pix model headless, or continue a run exactly.

    roadstudio-cli train --data DATASET --run-dir runs/demo [--config RUN.toml] [flags...]
    roadstudio-cli train --preset default-model --run-dir runs/default [flags...]
    roadstudio-cli train --resume runs/demo [--max-steps N] [--device ...]

Settings come from the defaults (or a --preset, core.train.presets), then --config RUN.toml, then the
flags (flags win). The run folder
gets config.toml, checkpoints/, metrics.jsonl, samples/ and TensorBoard files (core.train.run_files).
Ctrl+C or SIGTERM stops after the current step and saves a checkpoint (Ctrl+C twice aborts).
Exit codes: 0 finished (completed, max steps or stopped), 1 failed, 2 user error.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core.config import NETG_PRESETS, RunConfig, load_run_config
from core.errors import ConfigError, UserError
from core.train.presets import PRESETS, preset_config
from core.train.control import TrainingControl
from core.train.dist_env import DistEnv
from core.train.events import (CheckpointSaved, Event, Failed, Finished, Paused, Resumed, Started, Step, Validation,
                               Warning_)

# flag dest -> (config section, field). Only flags the user gave (not None) override the config.
_FLAG_FIELDS: dict[str, tuple[str, str]] = {
    "data": ("data", "path"), "format": ("data", "format"), "direction": ("data", "direction"),
    "load_size": ("data", "load_size"), "crop_size": ("data", "crop_size"), "preprocess": ("data", "preprocess"),
    "val_fraction": ("data", "val_fraction"), "num_workers": ("data", "num_workers"),
    "synthetic_count": ("data", "synthetic_count"),
    "train_splits": ("data", "train_splits"),
    "extra_data": ("data", "extra_paths"), "extra_repeat": ("data", "extra_repeat"), "exclude": ("data", "exclude"),
    "extra_repeats": ("data", "extra_repeats"), "holdout": ("data", "holdout"),
    "rare_threshold": ("data", "rare_threshold"), "rare_max_repeat": ("data", "rare_max_repeat"),
    "rare_crop_prob": ("data", "rare_crop_prob"), "painted_share": ("data", "painted_share"),
    "modulation": ("generator", "modulation"), "condition": ("generator", "condition"),
    "ngf": ("generator", "ngf"), "norm": ("generator", "norm"), "depth": ("generator", "depth"),
    "input_encoding": ("generator", "input_encoding"),
    "upsample": ("generator", "upsample"),
    "d_kind": ("discriminator", "kind"), "seg_ndf": ("discriminator", "seg_ndf"),
    "lambda_seg": ("train", "lambda_seg"), "seg_labelmix": ("train", "seg_labelmix"),
    "ndf": ("discriminator", "ndf"), "d_layers": ("discriminator", "n_layers"), "d_scales": ("discriminator", "scales"),
    "lambda_feat": ("train", "lambda_feat"), "ema_decay": ("train", "ema_decay"),
    "init_from": ("train", "init_from"),
    "gan_mode": ("train", "gan_mode"), "lambda_l1": ("train", "lambda_l1"), "lr": ("train", "lr"),
    "batch_size": ("train", "batch_size"), "epochs": ("train", "epochs"), "epochs_decay": ("train", "epochs_decay"),
    "max_steps": ("train", "max_steps"), "seed": ("train", "seed"), "device": ("train", "device"),
    "checkpoint_every": ("train", "checkpoint_every"), "sample_every": ("train", "sample_every"),
    "keep_checkpoints": ("train", "keep_checkpoints"), "bf16": ("train", "bf16"),
    "channels_last": ("train", "channels_last"), "compile": ("train", "compile"), "sync_bn": ("train", "sync_bn"),
}
# Flags that may accompany --resume (they do not change what has been learned so far).
_RESUME_FLAGS = {"max_steps", "epochs", "epochs_decay", "device", "checkpoint_every", "sample_every",
                 "keep_checkpoints", "num_workers", "bf16", "channels_last", "compile"}
_LOAD_PER_CROP = 286 / 256  # the reference's resize-then-crop ratio, used when only --crop-size is given


def _size(text: str) -> tuple[int, int]:
    """'256' -> (256, 256); '256x512' -> (256, 512) as (height, width)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not N or HxW") from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not N or HxW with positive numbers")
    return values[0], values[1]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train", help="train a pix2pix model (or --resume a run)",
        description="Train a pix2pix label->photo model. Settings: defaults < --config < flags. "
                    "Ctrl+C / SIGTERM stop after the current step and save a checkpoint.")
    rundir = p.add_argument_group("run")
    rundir.add_argument("--config", type=Path, metavar="RUN.toml", help="start from this run configuration")
    rundir.add_argument("--preset", choices=tuple(PRESETS), metavar="NAME",
                        help="start from a named recipe (flags still override it): "
                             + "; ".join(f"{p.name}: {p.title}" for p in PRESETS.values()))
    rundir.add_argument("--run-dir", type=Path, metavar="DIR", help="folder for the new run (required for a new run)")
    rundir.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue this run exactly where it stopped")
    rundir.add_argument("--resume-if-exists", action="store_true",
                        help="if --run-dir already holds this run, continue it (restarted or requeued cluster jobs; "
                             "a torchrun --max-restarts restart continues its own run anyway)")
    rundir.add_argument("--name", help="run name (shown in model cards)")
    rundir.add_argument("--pin", type=Path, action="append", default=[], metavar="LABEL.png",
                        help="pin this painting to the run: rendered at every sample step into "
                             "RUN/pinned/NAME/ (repeatable; also with --resume)")
    data = p.add_argument_group("data")
    data.add_argument("--data", metavar="PATH|synthetic", help="dataset folder, or 'synthetic' (built-in streets)")
    data.add_argument("--format", choices=("auto", "aligned", "cityscapes", "folders", "camvid", "synthetic"))
    data.add_argument("--direction", choices=("AtoB", "BtoA"),
                      help="aligned A|B images: BtoA = label map on the right (Cityscapes pix2pix set)")
    data.add_argument("--load-size", type=_size, metavar="N|HxW", help="resize to this before the random crop")
    data.add_argument("--crop-size", type=_size, metavar="N|HxW",
                      help="network input size (without --load-size, load size = crop × 286/256)")
    data.add_argument("--preprocess", choices=("resize_and_crop", "resize", "none", "multiscale_crop"))
    data.add_argument("--train-splits", type=lambda t: tuple(x for x in t.split(",") if x), metavar="A,B",
                      help="train on these splits together, e.g. train,val (validation: a --val-fraction holdout)")
    data.add_argument("--extra-data", action="append", metavar="PATH",
                      help="another dataset trained on alongside --data (repeatable; replaces the preset's)")
    data.add_argument("--extra-repeat", type=int, metavar="N", help="each --extra-data pair N times per epoch")
    data.add_argument("--exclude", action="append", metavar="PATTERN",
                      help="leave out pairs whose name matches this glob, e.g. '*aachen_000007*' (repeatable)")
    data.add_argument("--extra-repeats", type=lambda t: tuple(int(x) for x in t.split(",") if x), metavar="N,M",
                      help="per --extra-data repeats, in the same order (instead of one --extra-repeat)")
    data.add_argument("--holdout", action="append", metavar="PATTERN",
                      help="move training pairs matching this glob to validation, e.g. a whole clip "
                           "'*aachen_000005_*' (repeatable)")
    data.add_argument("--rare-threshold", type=float, metavar="T",
                      help="rare-class sampling: a class in a share f < T of the frames repeats its frames "
                           "sqrt(T/f) times an epoch (LVIS repeat factors; 0 = off)")
    data.add_argument("--rare-max-repeat", type=int, metavar="N", help="at most N copies of a frame an epoch")
    data.add_argument("--rare-crop-prob", type=float, metavar="P",
                      help="chance that a crop of a frame with a rare class is placed around it")
    data.add_argument("--painted-share", type=float, metavar="P",
                      help="share of training label maps replaced by painting-like simplified ones")
    data.add_argument("--val-fraction", type=float, metavar="F", help="held-out share when there is no val split")
    data.add_argument("--synthetic-count", type=int, metavar="N", help="synthetic pairs per epoch")
    data.add_argument("--num-workers", type=int, metavar="N", help="DataLoader worker processes")
    model = p.add_argument_group("model")
    model.add_argument("--netG", choices=tuple(NETG_PRESETS), help="generator preset")
    model.add_argument("--depth", type=int, metavar="N", help="U-Net depth (overrides the preset's)")
    model.add_argument("--ngf", type=int, metavar="N")
    model.add_argument("--ndf", type=int, metavar="N")
    model.add_argument("--norm", choices=("batch", "instance", "none"), help="generator and discriminator norm")
    model.add_argument("--d-layers", type=int, metavar="N",
                       help="PatchGAN layers: 0 pixel, 1 16×16, 3 70×70, 5 286×286")
    model.add_argument("--input-encoding", choices=("onehot", "color"))
    model.add_argument("--upsample", choices=("transpose", "resize"),
                       help="decoder upsampling: transpose = 4×4 stride-2 transposed conv (the paper's); "
                            "resize = ×2 nearest resize + 3×3 conv (no checkerboard grid)")
    model.add_argument("--d-scales", type=int, metavar="N",
                       help="multi-scale PatchGAN (pix2pixHD): N discriminators on the image at ×1, ×1/2, ×1/4 "
                            "(1 = paper)")
    model.add_argument("--modulation", choices=("none", "clade"),
                       help="clade = class-adaptive modulation: per-class scale/shift in every decoder block")
    model.add_argument("--condition", choices=("labels", "labels+photo"),
                       help="labels+photo = the photo-edit generator: label map + photo with a hole + mask, "
                            "trained with random holes (core.edit; preset photo-edit)")
    model.add_argument("--d-kind", choices=("patch", "segmentation", "patch+segmentation"),
                       help="discriminator: the PatchGAN (default), OASIS's segmentation discriminator "
                            "(per pixel: a class or fake), or both")
    model.add_argument("--seg-ndf", type=int, metavar="N", help="segmentation discriminator base width (16)")
    model.add_argument("--no-dropout", action="store_true", help="no dropout in the generator")
    opt = p.add_argument_group("optimisation")
    opt.add_argument("--gan-mode", choices=("vanilla", "lsgan"))
    opt.add_argument("--lambda-l1", type=float, metavar="X")
    opt.add_argument("--lambda-feat", type=float, metavar="X",
                     help="discriminator feature-matching loss weight (pix2pixHD uses 10; 0 = off, the paper)")
    opt.add_argument("--lambda-seg", type=float, metavar="X",
                     help="weight of the segmentation discriminator's term in G's loss (1 = OASIS)")
    opt.add_argument("--seg-labelmix", type=float, metavar="X",
                     help="LabelMix weight for the segmentation discriminator (OASIS uses 10; 0 = off)")
    opt.add_argument("--ema-decay", type=float, metavar="X",
                     help="keep an exponential moving average of G's weights with this decay (e.g. 0.999; 0 = off); "
                          "checkpoints then ship the average, the raw weights beside it as *.raw.safetensors")
    opt.add_argument("--init-from", metavar="WEIGHTS|default",
                     help="fine-tune: start G (and the D saved beside it) from these weights instead of random "
                          "ones; 'default' = the bundled default model. A plain model may start a --modulation "
                          "clade one (each class starts with the model's own affine)")
    opt.add_argument("--lr", type=float, metavar="X")
    opt.add_argument("--batch-size", type=int, metavar="N")
    opt.add_argument("--epochs", type=int, metavar="N", help="epochs at the initial learning rate")
    opt.add_argument("--epochs-decay", type=int, metavar="N", help="epochs of linear decay to zero")
    opt.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps (0 = all epochs)")
    opt.add_argument("--seed", type=int, metavar="N")
    hw = p.add_argument_group("hardware")
    hw.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    hw.add_argument("--bf16", action="store_true", default=None, help="bf16 autocast (CUDA)")
    hw.add_argument("--channels-last", action="store_true", default=None, help="channels_last memory format (CUDA)")
    hw.add_argument("--compile", action="store_true", default=None, help="torch.compile the networks (CUDA)")
    hw.add_argument("--sync-bn", action="store_true", default=None, help="SyncBatchNorm under torchrun")
    out = p.add_argument_group("output")
    out.add_argument("--checkpoint-every", type=int, metavar="STEPS")
    out.add_argument("--sample-every", type=int, metavar="STEPS")
    out.add_argument("--keep-checkpoints", type=int, metavar="N", help="step checkpoints kept besides last and best")
    p.set_defaults(func=run)


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {dest: getattr(args, dest) for dest in _FLAG_FIELDS if getattr(args, dest, None) is not None}


def _replace(section: Any, **changes: Any) -> Any:
    return dataclasses.replace(section, **changes) if changes else section


def build_config(args: argparse.Namespace, base: RunConfig | None = None) -> RunConfig:
    """Defaults < --config (or `base`) < flags."""
    if base is None:
        preset = getattr(args, "preset", None)
        if preset and getattr(args, "config", None):
            raise UserError("use either --preset or --config, not both (flags override either)")
        base = load_run_config(args.config) if args.config else preset_config(preset) if preset else RunConfig()
    given = _given(args)
    resize_and_crop = (args.preprocess or base.data.preprocess) == "resize_and_crop"
    if "crop_size" in given and "load_size" not in given and resize_and_crop:
        given["load_size"] = tuple(round(v * _LOAD_PER_CROP) for v in given["crop_size"])
    changes: dict[str, dict[str, Any]] = {"data": {}, "generator": {}, "discriminator": {}, "train": {}}
    if getattr(args, "netG", None):
        arch, depth = NETG_PRESETS[args.netG]
        changes["generator"].update(arch=arch, depth=depth)
    if getattr(args, "no_dropout", False):
        changes["generator"]["dropout"] = False
    for dest, value in given.items():
        section, field = _FLAG_FIELDS[dest]
        if dest == "holdout":
            value = tuple(value)
        changes[section][field] = value
    if "norm" in given:
        changes["discriminator"]["norm"] = given["norm"]
    if "extra_data" in given and "extra_repeats" not in given:
        changes["data"]["extra_repeats"] = ()  # the preset's per-path repeats named its own paths
    try:
        sections = {name: _replace(getattr(base, name), **fields) for name, fields in changes.items()}
        cfg = base.replace(**sections)
        if getattr(args, "name", None):
            cfg = cfg.replace(name=args.name)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
    return cfg


def _resume_config(args: argparse.Namespace) -> RunConfig:
    not_allowed = sorted(d for d in _given(args) if d not in _RESUME_FLAGS)
    for flag in ("config", "preset", "run_dir", "netG", "name"):
        if getattr(args, flag, None):
            not_allowed.append(flag)
    if getattr(args, "no_dropout", False):
        not_allowed.append("no_dropout")
    if not_allowed:
        flags = ", ".join("--" + d.replace("_", "-") for d in not_allowed)
        raise UserError(f"--resume continues a run with its own settings; these flags cannot change it: {flags} "
                        f"(allowed: {', '.join('--' + f.replace('_', '-') for f in sorted(_RESUME_FLAGS))})")
    config = args.resume / "config.toml"
    if not config.exists():
        raise UserError(f"{args.resume} is not a Road Studio run folder (no config.toml) - nothing to resume")
    return build_config(args, base=load_run_config(config))


@contextmanager
def _stop_on_signals(control: TrainingControl) -> Iterator[None]:
    """SIGTERM and a first Ctrl+C ask the loop to stop after the current step (it saves a
    checkpoint); a second Ctrl+C aborts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: Any) -> None:
        control.stop()

    def on_int(signum: int, frame: Any) -> None:
        if control.stop_requested:
            raise KeyboardInterrupt
        tqdm.write("stopping after this step and saving a checkpoint (Ctrl+C again to abort)", file=sys.stderr)
        control.stop()

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_int)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Progress:
    """The CLI's view of the event stream: a tqdm bar on stderr with losses, it/s and ETA."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled  # False on torchrun ranks other than 0: they stay silent
        self.bar: tqdm | None = None
        self.data_bar: tqdm | None = None

    def data_progress(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.data_bar is None:
            self.data_bar = tqdm(total=total, desc="checking data", unit="pair", file=sys.stderr, dynamic_ncols=True,
                                 leave=False)
        self.data_bar.update(done - self.data_bar.n)

    def write(self, text: str) -> None:
        tqdm.write(text, file=sys.stderr)

    def handle(self, event: Event) -> None:
        if not self.enabled:
            return
        if isinstance(event, Started):
            if self.data_bar is not None:
                self.data_bar.close()
            verb = "resuming at step" if event.start_step else "training from step"
            self.write(f"{verb} {event.start_step} of {event.total_steps} on {event.device}: "
                       f"{event.train_pairs} training pairs, {event.val_pairs} validation pairs, "
                       f"G {event.generator_params:,} / D {event.discriminator_params:,} parameters")
            self.bar = tqdm(total=event.total_steps, initial=event.start_step, desc="train", unit="step",
                            file=sys.stderr, dynamic_ncols=True, smoothing=0.05)
        elif isinstance(event, Step) and self.bar is not None:
            losses = " ".join(f"{k}={v:.3f}" for k, v in event.losses.items())
            self.bar.set_postfix_str(f"ep {event.epoch} {losses} lr={event.lr:.2e}", refresh=False)
            self.bar.update(event.step - self.bar.n)
        elif isinstance(event, Validation):
            best = " (best)" if event.is_best else ""
            realism = ""
            if event.realism is not None:  # FCN mIoU of the renderings; the real photos' is the ceiling
                ceiling = f" of {event.realism_real:.3f} real" if event.realism_real is not None else ""
                realism = f"  realism {event.realism:.3f}{ceiling}"
            self.write(f"validation after epoch {event.epoch} (step {event.step}): L1 {event.l1:.4f}  "
                       f"PSNR {event.psnr:.2f} dB  SSIM {event.ssim:.4f}{realism}{best}")
        elif isinstance(event, CheckpointSaved) and event.reason in ("stop", "final"):
            self.write(f"saved checkpoint {event.weights_path}")
        elif isinstance(event, Warning_):
            self.write(f"warning: {event.message}")
        elif isinstance(event, Paused):
            self.write(f"paused at step {event.step}")
        elif isinstance(event, Resumed):
            self.write(f"resumed at step {event.step}")

    def close(self) -> None:
        for bar in (self.bar, self.data_bar):
            if bar is not None:
                bar.close()


def format_class_share(share: dict[str, float]) -> str:
    """The per-class pixel share the run trained on, rarest last, as printed after training
    (the same numbers go into every checkpoint's card as class_pixel_share)."""
    rows = sorted(((k, v) for k, v in share.items() if k != "unlabeled"), key=lambda kv: -kv[1])
    lines = ["label pixels trained on, per class:"]
    lines += [f"  {name:<14} {100 * value:6.2f}%" for name, value in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from core.train.distributed import record_launch, start_mode  # torch imports: only when training
    from core.train.loop import train

    env = DistEnv.from_env()
    if args.resume is not None:
        cfg = _resume_config(args)
        run_dir, resume = args.resume, True
    else:
        if args.run_dir is None:
            raise UserError("--run-dir DIR is required for a new run (or use --resume RUN_DIR)")
        cfg = build_config(args)
        run_dir = args.run_dir
        # A folder that already holds a run is an error, unless --resume-if-exists or this is a
        # torchrun restart of the job that started it (core.train.distributed.start_mode).
        resume = start_mode(run_dir, resume_if_exists=args.resume_if_exists) == "resume"

    if args.pin and env.is_main:
        from core.train.pins import pin_file

        for label_file in args.pin:  # before the run starts: its first sample renders them
            pin_file(run_dir, label_file)
    control = TrainingControl()
    progress = _Progress(enabled=env.is_main)
    outcome: Event | None = None
    try:
        with _stop_on_signals(control):
            for event in train(cfg, run_dir, control, resume=resume, data_progress=progress.data_progress):
                progress.handle(event)
                if isinstance(event, Started) and not resume:
                    record_launch(run_dir)  # lets a torchrun restart of this job resume it
                if isinstance(event, (Finished, Failed)):
                    outcome = event
    finally:
        progress.close()
    if isinstance(outcome, Failed):
        where = f"; last good checkpoint: {outcome.last_checkpoint}" if outcome.last_checkpoint else ""
        rank = f"rank {env.rank}: " if env.distributed else ""
        print(f"error: {rank}training failed at step {outcome.step}: {outcome.message}{where}", file=sys.stderr)
        return 1
    if isinstance(outcome, Finished) and not env.is_main:
        return 0
    if isinstance(outcome, Finished):
        if outcome.class_pixel_share:
            print(format_class_share(outcome.class_pixel_share), file=sys.stderr)
        if outcome.reason == "stopped":
            print(f"stopped at step {outcome.step}; continue with `roadstudio-cli train --resume {run_dir}`",
                  file=sys.stderr)
        else:
            print(f"finished ({outcome.reason}) at step {outcome.step}: {run_dir / 'checkpoints' / 'last.safetensors'}",
                  file=sys.stderr)
        return 0
    print("error: training ended without a result", file=sys.stderr)
    return 1
