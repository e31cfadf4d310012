"""The pix2pix training loop, as a generator of typed events (core.train.events).

    for event in train(cfg, Path("runs/demo")):
        ...  # Started, Step, Sample, Validation, CheckpointSaved, ..., Finished | Failed

One optimizer step, exactly the reference pix2pix order:
    fake = G(x)
    D step: loss_D = 0.5 · (GAN(D(x, fake.detach()), fake) + GAN(D(x, real), real))
    freeze D; G step: loss_G = GAN(D(x, fake), real) + λ · L1(fake, real)
Reported losses: G_GAN, G_L1 (already multiplied by λ, as the reference logs it), D_real, D_fake.
With DiscriminatorConfig.kind "segmentation" (OASIS; no PatchGAN) or "patch+segmentation" (both),
the segmentation discriminator takes its own D step after the PatchGAN's, and G's loss gains
λ_seg · G_seg (core.train.seg_adversary); its losses are reported as G_seg, D_seg_real,
D_seg_fake (+ D_seg_mix with LabelMix). A segmentation-only run reports no G_GAN/D_real/D_fake.

Exact resume. A checkpoint is taken at a step boundary after everything the step triggers
(samples, validation); it holds both nets (BatchNorm running stats included), both optimizers,
the epoch and the samples of it already consumed, and every RNG state. Nothing between steps draws
from a global RNG: creating a DataLoader iterator does (its base seed), so that is done with the
RNG state saved and restored; samples reuse the step's tensors; validation and the canvas preview
run in eval mode (no dropout, no running-stat updates). Data order and augmentation depend only on
(seed, epoch, index) (core.data.loader). So on CPU a killed-and-resumed run ends bit-identical to an
uninterrupted one.

Files are written only by rank 0 (core.train.dist_env) through core.train.run_files and the event
sinks (core.train.sinks). Test hook: ROADSTUDIO_INJECT_NAN_AT_STEP=N (or inject_nan_at_step=N)
makes the loss of step N NaN.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from core import __version__
from core.weights.checkpoints import load_training_state, unwrap
from core.config import RunConfig, TrainConfig, load_run_config, to_dict
from core.data.base import PairSource
from core.data.loader import make_loader
from core.edit import training as photo_edit
from core.models.encoding import encode_labels
from core.labels import ID_TO_PALETTE_INDEX, NUM_PALETTE_CLASSES, PALETTE
from core.errors import CheckpointError, ConfigError, UserError
from core.models import build_discriminator, build_generator, count_parameters
from core.train import metrics
from core.train.control import TrainingControl
from core.train.data_guard import GuardedSource
from core.train.device import cuda_only_options, select_device
from core.train.dist_env import DistEnv
from core.train.ema import GeneratorEMA
from core.train.seg_adversary import SegAdversary, palette_classes
from core.train.distributed import (any_rank, crash_for_test, destroy_process_group, explain_failure,
                                    init_process_group, local_module, mean_over_ranks, planned_total_steps,
                                    rescale_consumed, sync_bn_usable, wrap_ddp, write_run_config)
from core.train.events import (CanvasPreview, CheckpointSaved, Event, Failed, Finished, Paused, Resumed, Sample,
                               Started, Step, Validation, Warning_)
from core.train.losses import GANLoss, feature_matching_loss, gan_loss_over_scales, l1_loss
from core.train.pins import PinnedImageSink, PinSet
from core.train.previews import render_labels, sample_grid
from core.train.run_files import CheckpointWriter, RunFolderFault, RunPaths
from core.train.sinks import EventSink, JsonlSink, SampleImageSink, TensorBoardSink, close_all, deliver
from core.train.state import STATE_FORMAT, capture_rng_state, lr_for_epoch, restore_rng_state, seed_everything, set_lr
from core.train.warm_start import warm_start

log = logging.getLogger(__name__)

INJECT_NAN_ENV = "ROADSTUDIO_INJECT_NAN_AT_STEP"
LOSS_NAMES = ("G_GAN", "G_L1", "D_real", "D_fake")  # PatchGAN runs; seg-D names: core.train.seg_adversary
FEAT_LOSS_NAME = "G_feat"  # reported only by runs with lambda_feat > 0
PAUSE_POLL_S = 0.25

# Settings a resumed run may change; everything else must match the run's config.toml.
RESUME_OVERRIDABLE = {
    "name",
    "train.max_steps", "train.epochs", "train.epochs_decay", "train.device", "train.bf16",
    "train.channels_last", "train.compile", "train.checkpoint_every", "train.sample_every",
    "train.keep_checkpoints", "data.num_workers", "world_size",
}


def train(cfg: RunConfig | None, run_dir: str | Path, control: TrainingControl | None = None, *,
          sources: tuple[PairSource, PairSource | None] | None = None, resume: bool = False,
          inject_nan_at_step: int | None = None,
          data_progress: Callable[[int, int], None] | None = None) -> Iterator[Event]:
    """Train (or with resume=True continue) the run in `run_dir`, yielding events.

    cfg: the run's settings; with resume=True it may be None (the run's config.toml is used) or
      the saved config with only RESUME_OVERRIDABLE settings changed (e.g. a larger max_steps).
    sources: (train, val or None) pair sources; None opens cfg.data via core.data.registry.
    data_progress: called with (done, total) while core.data.registry checks the dataset's files.
    Raises UserError (ConfigError, CheckpointError, ...) for problems the user can fix, before the
    first step. After Started, problems end the stream with a Failed event instead.
    """
    if inject_nan_at_step is None and os.environ.get(INJECT_NAN_ENV):
        inject_nan_at_step = int(os.environ[INJECT_NAN_ENV])
    run = _Run(cfg, Path(run_dir), control or TrainingControl(), sources, resume, inject_nan_at_step,
               data_progress)
    yield from run.events()


def wrap_models(generator: torch.nn.Module, discriminator: torch.nn.Module | None, *, compile_models: bool,
                env: DistEnv, device: torch.device | None = None,
                sync_bn: bool = False) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """The one place models get wrapped for speed or distribution: torch.compile inside,
    DistributedDataParallel outside when torchrun started several processes
    (core.train.distributed); everything else uses core.weights.checkpoints.unwrap for the plain module."""
    if compile_models:
        generator = torch.compile(generator)  # type: ignore[assignment]
        if discriminator is not None:  # None: a segmentation-discriminator-only run
            discriminator = torch.compile(discriminator)  # type: ignore[assignment]
    if env.distributed and device is not None:
        generator = wrap_ddp(generator, device, sync_bn=sync_bn)
        if discriminator is not None:
            discriminator = wrap_ddp(discriminator, device, sync_bn=sync_bn)
    return generator, discriminator


def make_optimizers(generator: torch.nn.Module, discriminator: torch.nn.Module | None, t: TrainConfig,
                    device: torch.device) -> tuple[torch.optim.Adam, torch.optim.Adam | None]:
    """Adam for G and D. fused=True on CPU and CUDA: one kernel over all parameters instead of a
    handful of ops per tensor (PyTorch's default on CPU); the same update up to float rounding,
    and the step 1.05-1.2× faster at the default-model size (docs/performance.md, issue 18).
    A resumed run keeps the kind its checkpoint was trained with (load_state_dict restores the
    saved param group's `fused` flag), so a run that resumed exactly still does. No PatchGAN (a
    segmentation-discriminator-only run): no D optimizer."""
    fused: dict[str, bool] = {"fused": True} if device.type in ("cpu", "cuda") else {}
    opt_d = (torch.optim.Adam(discriminator.parameters(), lr=t.lr, betas=(t.beta1, t.beta2), **fused)
             if discriminator is not None else None)
    return torch.optim.Adam(generator.parameters(), lr=t.lr, betas=(t.beta1, t.beta2), **fused), opt_d


def resume_config(saved: RunConfig, given: RunConfig | None) -> RunConfig:
    """The config a resumed run uses: `given` when it differs from `saved` only in settings a
    resume may change (ConfigError naming the others otherwise)."""
    if given is None:
        return saved
    a, b = _flatten(to_dict(saved)), _flatten(to_dict(given))
    changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k) and k not in RESUME_OVERRIDABLE)
    if changed:
        raise ConfigError("a resumed run must keep its model, data and optimiser settings; changed: "
                          + ", ".join(changed))
    return given


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


class CollapseMonitor:
    """Warns once when the discriminator loss stays near zero for `patience` steps in a row: D
    wins outright and G gets no useful gradient (a common GAN failure). Warns again only after
    the loss has recovered."""

    def __init__(self, threshold: float = 1e-3, patience: int = 200, streak: int = 0) -> None:
        self.threshold = threshold
        self.patience = patience
        self.streak = streak

    def update(self, loss_d: float) -> str | None:
        self.streak = self.streak + 1 if loss_d < self.threshold else 0
        if self.streak == self.patience:
            return (f"discriminator loss has been below {self.threshold:g} for {self.patience} steps: "
                    "possible collapse (try a lower learning rate, a larger lambda_l1 or more data)")
        return None


@dataclass
class _Position:
    step: int = 0  # optimizer steps done
    epoch: int = 0  # epoch of the next sample
    consumed: int = 0  # samples of this rank's share of `epoch` already used
    best_val_l1: float | None = None
    best_realism: float | None = None  # highest validation realism (mIoU) so far, when scored
    # Label pixels of every training crop this rank has trained on, per palette class (after
    # rare-class sampling and painting-like maps): what the model actually saw.
    class_pixels: list[int] = dataclasses.field(default_factory=lambda: [0] * NUM_PALETTE_CLASSES)


class _NonFinite(Exception):  # noqa: N818 - a signal to skip the step, caught in the loop; not an error
    pass


def _rng_neutral_iter(loader: DataLoader) -> Iterator[dict[str, torch.Tensor]]:
    # DataLoader draws its workers' base seed from the global torch RNG when an iterator is
    # created. A resumed run creates one mid-epoch, an uninterrupted run does not; keeping that
    # draw off the global stream keeps dropout noise identical after a resume.
    state = torch.get_rng_state()
    it = iter(loader)
    torch.set_rng_state(state)
    return it


def _set_requires_grad(net: torch.nn.Module, flag: bool) -> None:
    for p in net.parameters():
        p.requires_grad_(flag)


class _Run:
    def __init__(self, cfg: RunConfig | None, run_dir: Path, control: TrainingControl,
                 sources: tuple[PairSource, PairSource | None] | None, resume: bool,
                 inject_nan_at_step: int | None, data_progress: Callable[[int, int], None] | None) -> None:
        self.given_cfg = cfg
        self.data_progress = data_progress
        self.paths = RunPaths(run_dir)
        self.control = control
        self.given_sources = sources
        self.resume = resume
        self.inject_nan_at_step = inject_nan_at_step
        self.env = DistEnv.from_env()
        self.pos = _Position()
        self.warnings: list[str] = []
        self.sinks: list[EventSink] = []
        self.last_saved_step = -1
        self.reported_bad_files: set[str] = set()
        self.pins = PinSet(run_dir)  # pinned/ paintings, rendered at every sample step (core.train.pins)
        self.palette_index = torch.from_numpy(ID_TO_PALETTE_INDEX.astype("int64"))  # label id -> class

    # ------------------------------------------------------------------------------- set-up

    def _setup(self) -> None:
        state = self._load_config_and_state()
        cfg = self.cfg
        if cfg.train.sync_bn and not self.env.distributed:
            self.warnings.append("sync_bn only applies to distributed (torchrun) runs; ignored")
        self.device = select_device(cfg.train.device, self.env.local_rank)
        self.bf16, self.channels_last, compile_models, option_warnings = cuda_only_options(cfg.train, self.device)
        self.warnings += option_warnings
        # Under torchrun: join the process group (NCCL on CUDA, Gloo on CPU). Its closing barrier
        # means every rank has passed the run-folder checks above before rank 0 writes anything.
        self.owns_process_group = init_process_group(self.env, self.device)
        sync_bn, sync_bn_warnings = sync_bn_usable(cfg.train.sync_bn, self.env, self.device)
        self.warnings += sync_bn_warnings
        seed_everything(cfg.train.seed)

        train_src, val_src = self._open_sources()
        workers = cfg.data.num_workers > 0
        self.train_src = GuardedSource(train_src, worker_processes=workers)
        self.val_src = (GuardedSource(val_src, worker_processes=workers)
                        if val_src is not None and len(val_src) else None)

        # Built right after seeding: init draws from the global RNG, so a seed fixes the weights.
        g = build_generator(cfg.generator).to(self.device)
        d = (build_discriminator(cfg.discriminator, cfg.generator).to(self.device)
             if cfg.discriminator.uses_patch else None)
        if self.channels_last:
            g = g.to(memory_format=torch.channels_last)
            d = d.to(memory_format=torch.channels_last) if d is not None else None
        t = cfg.train
        self.opt_g, self.opt_d = make_optimizers(g, d, t, self.device)
        # Built after G and D, so their seeded init is the same as in a PatchGAN-only run.
        self.seg = SegAdversary(cfg, self.device) if cfg.discriminator.uses_segmentation else None
        if state is not None:
            self._restore(state, g, d)
        elif cfg.train.init_from:
            self.warnings += warm_start(cfg.train.init_from, g, d, cfg.generator)
        self.ema = self._make_ema(g, state)
        self.g, self.d = wrap_models(g, d, compile_models=compile_models, env=self.env, device=self.device,
                                     sync_bn=sync_bn)
        if self.seg is not None:
            self.seg.wrap(lambda net: wrap_models(net, None, compile_models=compile_models, env=self.env,
                                                  device=self.device, sync_bn=sync_bn)[0])
        self.gan_loss = GANLoss(t.gan_mode).to(self.device)

        self.loader, self.sampler = make_loader(
            self.train_src, cfg.data, batch_size=t.batch_size, seed=t.seed, train=True, device=self.device,
            rank=self.env.rank, world_size=self.env.world_size)
        self.val_loader = None
        self.realism = None
        if self.val_src is not None:
            self.val_loader, _ = make_loader(self.val_src, cfg.data, batch_size=t.batch_size, seed=t.seed,
                                             train=False, device=self.device)
            self.realism = _realism_tracker(cfg, self.warnings, own_data=self.given_sources is None)
        self.steps_per_epoch = math.ceil(self.sampler.per_rank / t.batch_size)
        self.full_steps = self.steps_per_epoch * t.total_epochs
        saved_world = int(state["config"].get("world_size", 1)) if state is not None else self.env.world_size
        if saved_world != self.env.world_size:
            # Resumed on another number of processes: same place in the epoch's sample order,
            # and the remaining steps counted from here (core.train.distributed).
            self.pos.consumed = rescale_consumed(self.pos.consumed, saved_world, self.env.world_size,
                                                 len(train_src))
            self.full_steps = planned_total_steps(self.pos.step, self.pos.epoch, self.pos.consumed,
                                                  self.sampler.per_rank, t.batch_size, t.total_epochs)
        self.total_steps = min(self.full_steps, t.max_steps) if t.max_steps else self.full_steps
        self.checkpoints = CheckpointWriter(self.paths, cfg.generator, t.keep_checkpoints)
        self.collapse = CollapseMonitor(streak=int(state.get("collapse_streak", 0)) if state else 0)
        if state is not None:
            saved_pairs = state.get("train_pairs")
            if saved_pairs is not None and int(saved_pairs) != len(train_src):
                self.warnings.append(f"the training data changed since the checkpoint ({saved_pairs} -> "
                                     f"{len(train_src)} pairs); the run continues, but not exactly as before")
            # Last of all: nothing after this may draw from a global RNG before the first step.
            restore_rng_state(state["rng"])
        if self.env.is_main:
            write_run_config(cfg, self.paths.config)  # with the effective batch size and lr noted

    def _load_config_and_state(self) -> dict[str, Any] | None:
        paths = self.paths
        if not self.resume:
            if self.given_cfg is None:
                raise ConfigError("a new run needs a configuration")
            if paths.config.exists():
                raise UserError(f"{paths.root} already holds a run (config.toml); continue it with "
                                f"`roadstudio-cli train --resume {paths.root}` or choose another --run-dir")
            self.cfg = self.given_cfg.replace(world_size=self.env.world_size)
            return None
        if not paths.config.exists():
            raise UserError(f"{paths.root} is not a Road Studio run folder (no config.toml) - nothing to resume")
        self.cfg = resume_config(load_run_config(paths.config), self.given_cfg).replace(world_size=self.env.world_size)
        if not paths.last_state.exists():
            # A folder prepared ahead (the panel's cluster export, a copied config) has never run:
            # starting it is the normal first start, not a lost run.
            if paths.metrics.exists():
                self.warnings.append("no checkpoint was saved before the run stopped; starting again from step 0")
            return None
        state = load_training_state(paths.last_state)
        if state.get("format") != STATE_FORMAT:
            raise CheckpointError(paths.last_state, f"unsupported training-state format {state.get('format')!r}")
        return state

    def _open_sources(self) -> tuple[PairSource, PairSource | None]:
        if self.given_sources is not None:
            train_src, val_src = self.given_sources
        else:
            from core.data.registry import open_datasets  # lazily: dataset code is optional for tests

            train_src, val_src, data_warnings = open_datasets(self.cfg.data, self.cfg.train.seed,
                                                               progress=self.data_progress)
            self.warnings += list(data_warnings)
        if len(train_src) == 0:
            raise UserError(f"the training data {self.cfg.data.path!r} has no pairs "
                            f"(format {self.cfg.data.format}); check the folder layout with "
                            "`roadstudio-cli data check`")
        return train_src, val_src

    def _restore(self, state: dict[str, Any], g: torch.nn.Module, d: torch.nn.Module | None) -> None:
        path = self.paths.last_state
        try:
            g.load_state_dict(state["generator"])
            self.opt_g.load_state_dict(state["optimizer_G"])
            if d is not None and self.opt_d is not None:
                d.load_state_dict(state["discriminator"])
                self.opt_d.load_state_dict(state["optimizer_D"])
            if self.seg is not None:
                self.seg.load_state(state)
            self.pos = _Position(step=int(state["step"]), epoch=int(state["epoch"]),
                                 consumed=int(state["consumed"]),
                                 best_val_l1=None if state["best_val_l1"] is None else float(state["best_val_l1"]),
                                 best_realism=state.get("best_realism"),
                                 class_pixels=[int(v) for v in state.get("class_pixels", [0] * NUM_PALETTE_CLASSES)])
            self.last_saved_step = self.pos.step  # this step's checkpoint is the one just loaded
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(path, f"does not fit this run's config ({str(exc).splitlines()[0][:200]})") from None

    def _make_ema(self, g: torch.nn.Module, state: dict[str, Any] | None) -> GeneratorEMA | None:
        """The EMA of G's weights when TrainConfig.ema_decay > 0 (restored on resume), else None."""
        decay = self.cfg.train.ema_decay
        if decay <= 0:
            return None
        ema = GeneratorEMA(g, decay)
        if state is not None:
            try:
                ema.load_state_dict(state["ema_generator"])
            except (KeyError, RuntimeError) as exc:
                raise CheckpointError(self.paths.last_state,
                                      f"has no usable EMA generator ({str(exc).splitlines()[0][:200]})") from None
        return ema

    def _discriminator_params(self) -> int:
        """Parameters of every discriminator the run trains (PatchGAN and/or segmentation)."""
        patch = count_parameters(unwrap(self.d)) if self.d is not None else 0
        return patch + (count_parameters(self.seg.plain) if self.seg is not None else 0)

    def _eval_generator(self) -> torch.nn.Module:
        """The generator shown and shipped: the EMA one when the run keeps it, else G itself."""
        return self.ema.module if self.ema is not None else unwrap(self.g)

    def _make_sinks(self) -> None:
        if not self.env.is_main:
            return
        self.sinks = [JsonlSink(self.paths.metrics), SampleImageSink(),
                      PinnedImageSink(self.cfg.name, self.cfg.generator.input_encoding)]
        if TensorBoardSink.available():
            purge = self.pos.step + 1 if self.pos.step > 0 else None
            self.sinks.append(TensorBoardSink(self.paths.tensorboard, purge_step=purge))

    # ------------------------------------------------------------------------------ events

    def events(self) -> Iterator[Event]:
        self.owns_process_group = False
        try:
            self._setup()  # UserErrors propagate from here, before any event
        except BaseException:
            if self.owns_process_group:
                destroy_process_group()
            raise
        self._make_sinks()
        try:
            # Sinks write each event before it is yielded; a run folder that stops taking files
            # ends the stream with Failed (core.train.sinks.deliver).
            guard = self.checkpoints.guard if self.env.is_main else None
            yield from deliver(self._events(), self.sinks, guard, self._last_checkpoint)
        finally:
            close_all(self.sinks)
            self.loader = self.val_loader = None  # type: ignore[assignment] # ends worker processes
            if self.owns_process_group:
                destroy_process_group()

    def _events(self) -> Iterator[Event]:
        pos = self.pos
        yield Started(run_dir=str(self.paths.root), device=str(self.device), total_steps=self.total_steps,
                      steps_per_epoch=self.steps_per_epoch, start_step=pos.step, start_epoch=pos.epoch,
                      train_pairs=len(self.train_src), val_pairs=len(self.val_src) if self.val_src else 0,
                      generator_params=count_parameters(unwrap(self.g)),
                      discriminator_params=self._discriminator_params(), world_size=self.env.world_size,
                      ema_decay=self.cfg.train.ema_decay)
        for message in self.warnings:
            yield Warning_(step=pos.step, message=message)
        try:
            yield from self._epochs()
        except _NonFinite as exc:
            yield Failed(step=pos.step + 1, message=str(exc), last_checkpoint=self._last_checkpoint())
        except RunFolderFault as exc:  # disk full, read-only or deleted run folder: its own message
            yield Failed(step=pos.step, message=str(exc), last_checkpoint=self._last_checkpoint())
        except UserError:
            raise
        except Exception as exc:  # reported as a Failed event, with the traceback logged
            # A lost torchrun peer is named (core.train.peer_watch) instead of Gloo's socket error.
            lost = explain_failure(exc)
            if lost is None:
                log.exception("training failed at step %d", pos.step + 1)
            yield Failed(step=pos.step + 1, message=lost or f"{type(exc).__name__}: {exc}",
                         last_checkpoint=self._last_checkpoint())

    def _epochs(self) -> Iterator[Event]:
        pos, cfg = self.pos, self.cfg
        while pos.step < self.total_steps:
            if pos.consumed >= self.sampler.per_rank:
                pos.epoch, pos.consumed = pos.epoch + 1, 0
            lr = lr_for_epoch(cfg.train.lr, pos.epoch, cfg.train.epochs, cfg.train.epochs_decay)
            set_lr(self.opt_g, lr)
            for opt_d in (self.opt_d, self.seg.opt if self.seg is not None else None):
                if opt_d is not None:
                    set_lr(opt_d, lr)
            self.sampler.set_epoch(pos.epoch, start=pos.consumed)
            batches = _rng_neutral_iter(self.loader)
            while pos.step < self.total_steps:
                stopped = yield from self._check_control()
                if stopped:
                    return
                t0 = time.perf_counter()
                batch = next(batches, None)
                if batch is None:
                    break
                yield from self._step(batch, lr, t0)
        if self.last_saved_step != pos.step:
            yield self._save("final")
        reason = "max_steps" if self.total_steps < self.full_steps else "completed"
        yield Finished(step=pos.step, epoch=pos.epoch, reason=reason, class_pixel_share=self.class_pixel_share())

    def _check_control(self) -> Generator[Event, None, bool]:
        """Pause / stop between steps. Returns True when the run has stopped."""
        control, pos = self.control, self.pos
        if control.paused and not control.stop_requested:
            yield Paused(step=pos.step)
            while not control.wait_while_paused(PAUSE_POLL_S) and not control.stop_requested:
                pass
            if not control.stop_requested:
                yield Resumed(step=pos.step)
        if any_rank(control.stop_requested, self.device):  # one rank's stop stops all, at the same step
            if self.last_saved_step != pos.step:
                yield self._save("stop")
            yield Finished(step=pos.step, epoch=pos.epoch, reason="stopped",
                           class_pixel_share=self.class_pixel_share())
            return True
        return False

    # ------------------------------------------------------------------------------- step

    def _step(self, batch: dict[str, torch.Tensor], lr: float, t0: float) -> Iterator[Event]:
        pos, cfg = self.pos, self.cfg
        crash_for_test(pos.step + 1, self.env)  # test hook for torchrun restarts; inert otherwise
        ids_cpu = batch["labels"]
        ids = ids_cpu.to(self.device, non_blocking=True)
        real = batch["photo"].to(self.device, non_blocking=True)
        x = encode_labels(ids, cfg.generator.input_encoding)  # (N, C_in, h, w) on the device
        hole = None
        if cfg.generator.photo_conditioned:  # photo-edit model: random holes (core.edit.training)
            hole = photo_edit.training_holes(ids_cpu, cfg.train.seed, self.env.rank, pos.step + 1).to(self.device)
            x = photo_edit.photo_input(x, real, hole)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
            real = real.contiguous(memory_format=torch.channels_last)
        t1 = time.perf_counter()
        classes = palette_classes(ids) if self.seg is not None else None  # (N, h, w) seg-D targets
        fake, losses = self._optimize(x, real, step_number=pos.step + 1, classes=classes, hole=hole)
        if self.ema is not None:
            self.ema.update(unwrap(self.g), pos.step + 1)
        # One device sync per step. Under torchrun: the mean over ranks (the global batch's loss;
        # a NaN on any rank stops every rank at this step).
        values = mean_over_ranks(torch.stack(list(losses.values())).detach().float()).tolist()
        t2 = time.perf_counter()
        named = dict(zip(losses, values, strict=True))
        if not all(math.isfinite(v) for v in values):
            raise _NonFinite(f"non-finite loss at step {pos.step + 1} ("
                             + ", ".join(f"{k}={v:.4g}" for k, v in named.items())
                             + "); training stopped, the last good checkpoint is kept")
        n = ids_cpu.shape[0]
        seen = torch.bincount(self.palette_index[ids_cpu.long()].flatten(), minlength=NUM_PALETTE_CLASSES)
        pos.class_pixels = [a + int(b) for a, b in zip(pos.class_pixels, seen.tolist(), strict=True)]
        pos.step += 1
        pos.consumed += n
        data_time, step_time = t1 - t0, t2 - t1
        yield Step(step=pos.step, epoch=pos.epoch, losses=named, lr=lr, data_time=data_time,
                   step_time=step_time, samples_per_s=n * self.env.world_size / max(1e-9, data_time + step_time))
        yield from self._data_warnings(self.train_src)
        warning = self.collapse.update(_discriminator_loss(named))
        if warning:
            yield Warning_(step=pos.step, message=warning)
        if pos.step % cfg.train.sample_every == 0 and self.env.is_main:
            grid = sample_grid(ids_cpu, self._sample_output(x, fake), real)
            yield Sample(step=pos.step, path=str(self.paths.sample(pos.step)), image=grid)
            preview = self.control.preview_labels()
            if preview is not None:
                image = render_labels(self._eval_generator(), cfg.generator, preview, self.device,
                                      channels_last=self.channels_last)
                yield CanvasPreview(step=pos.step, image=image)
            yield from self.pins.render(self._eval_generator(), cfg.generator, self.device, pos.step,  # type: ignore[misc]
                                        channels_last=self.channels_last)
        if pos.consumed >= self.sampler.per_rank and self.val_loader is not None:
            yield from self._validate()
        if pos.step % cfg.train.checkpoint_every == 0:
            yield self._save("interval")

    @torch.no_grad()
    def _sample_output(self, x: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The sample grid's output column: the step's own fake, or with an EMA the EMA generator
        on the same input (eval mode, no RNG drawn, so exact resume is unaffected)."""
        if self.ema is None:
            return fake.detach()
        with self._autocast():
            return self.ema.module(x)

    def _data_warnings(self, source: GuardedSource) -> Iterator[Event]:
        for message in source.drain():
            if message not in self.reported_bad_files:  # once per file, not once per epoch
                self.reported_bad_files.add(message)
                yield Warning_(step=self.pos.step, message=f"{message} (skipped; the next readable pair is used)")

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.bf16:
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _optimize(self, x: torch.Tensor, real: torch.Tensor, step_number: int,
                  classes: torch.Tensor | None = None,
                  hole: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One step of every discriminator, then of G. Returns the fake and the named losses
        (in the order they are reported). With a `hole` (a photo-edit model) the fake is the
        composite — the photo outside the hole, G's output inside — and L1 is per hole pixel
        (core.edit.training says why)."""
        g, d, gan = self.g, self.d, self.gan_loss
        lambda_feat = self.cfg.train.lambda_feat
        with self._autocast():
            fake = g(x)  # (N, 3, h, w) in [-1, 1]
        raw = fake
        if hole is not None:
            fake = photo_edit.composite(fake, real, hole)

        if d is not None:
            assert self.opt_d is not None
            # D step on the detached fake (no gradient into G) and the real photo. D returns, per
            # scale, its activations with the logits last (core.models.discriminator).
            _set_requires_grad(d, True)
            self.opt_d.zero_grad(set_to_none=True)
            with self._autocast():
                out_fake = d(torch.cat([x, fake.detach()], dim=1), return_features=True)
            loss_d_fake = gan_loss_over_scales(gan, out_fake, False)
            with self._autocast():
                out_real = d(torch.cat([x, real], dim=1), return_features=True)
            loss_d_real = gan_loss_over_scales(gan, out_real, True)
            loss_d = 0.5 * (loss_d_fake + loss_d_real)  # halved, so D learns more slowly than G
            loss_d.backward()
            self.opt_d.step()
        seg_d_losses = {}
        if self.seg is not None:
            assert classes is not None
            seg_d_losses = self.seg.d_step(real, fake.detach(), classes, self._autocast)

        # G step with D frozen: its gradients are not needed and must not accumulate. D is called
        # outside DDP here: DDP would wait for D gradients that a frozen D never produces.
        self.opt_g.zero_grad(set_to_none=True)
        loss_g_l1 = (l1_loss(fake, real) if hole is None else photo_edit.hole_l1(raw, real, hole)) \
            * self.cfg.train.lambda_l1
        losses: dict[str, torch.Tensor]
        if d is not None:
            _set_requires_grad(d, False)
            with self._autocast():
                out = local_module(d)(torch.cat([x, fake], dim=1), return_features=True)
            loss_g_gan = gan_loss_over_scales(gan, out, True)
            if self.inject_nan_at_step == step_number:
                loss_g_gan = loss_g_gan * float("nan")  # test hook (see module docstring)
            loss_g = loss_g_gan + loss_g_l1
            losses = {"G_GAN": loss_g_gan, "G_L1": loss_g_l1, "D_real": loss_d_real, "D_fake": loss_d_fake}
            if lambda_feat > 0:
                # Real features from the D step (D before this step's update, as pix2pixHD does):
                # no second pass over the real photo.
                loss_g_feat = feature_matching_loss(out, out_real) * lambda_feat
                loss_g = loss_g + loss_g_feat
                losses[FEAT_LOSS_NAME] = loss_g_feat
        else:
            loss_g = loss_g_l1
            losses = {"G_L1": loss_g_l1}
        if self.seg is not None:
            assert classes is not None
            loss_g_seg = self.seg.g_loss(fake, classes, self._autocast)
            if d is None and self.inject_nan_at_step == step_number:
                loss_g_seg = loss_g_seg * float("nan")  # test hook (see module docstring)
            loss_g = loss_g + loss_g_seg
            losses["G_seg"] = loss_g_seg
            losses.update(seg_d_losses)
        loss_g.backward()
        self.opt_g.step()
        return fake, losses

    # ------------------------------------------------------------------ validation, saving

    @torch.no_grad()
    def _validate(self) -> Iterator[Event]:
        assert self.val_loader is not None
        g = self._eval_generator()
        was_training = g.training
        g.eval()  # no dropout, BatchNorm uses (and does not update) running statistics
        total = {"l1": 0.0, "psnr": 0.0, "ssim": 0.0}
        count = 0
        try:
            for index, batch in enumerate(_rng_neutral_iter(self.val_loader)):
                x = encode_labels(batch["labels"].to(self.device), self.cfg.generator.input_encoding)
                real = batch["photo"].to(self.device)
                hole = None
                if self.cfg.generator.photo_conditioned:  # the same holes at every validation
                    hole = photo_edit.validation_holes(batch["labels"], self.cfg.train.seed, index).to(self.device)
                    x = photo_edit.photo_input(x, real, hole)
                with self._autocast():
                    fake = g(x).float()
                if hole is not None:  # scored as the user sees it: the composite
                    fake = photo_edit.composite(fake, real, hole)
                n = x.shape[0]
                total["l1"] += metrics.l1(fake, real) * n
                f01, r01 = metrics.to_unit(fake), metrics.to_unit(real)
                total["psnr"] += metrics.psnr(f01, r01) * n
                total["ssim"] += metrics.ssim(f01, r01) * n
                count += n
                if self.realism is not None:
                    self.realism.add(batch["labels"], fake, real)
        finally:
            g.train(was_training)
        assert self.val_src is not None
        yield from self._data_warnings(self.val_src)
        if count == 0:
            return
        l1 = total["l1"] / count
        pos = self.pos
        is_best = pos.best_val_l1 is None or l1 < pos.best_val_l1
        if is_best:
            pos.best_val_l1 = l1
        realism = self.realism.result() if self.realism is not None else None
        if realism is not None:  # the best checkpoint is the most realistic one, not the blurriest
            is_best = pos.best_realism is None or realism["miou"] > pos.best_realism
            if is_best:
                pos.best_realism = realism["miou"]
        yield Validation(step=pos.step, epoch=pos.epoch, l1=l1, psnr=total["psnr"] / count,
                         ssim=total["ssim"] / count, is_best=is_best,
                         ema=self.ema is not None, **(_realism_fields(realism) if realism is not None else {}))
        if is_best and self.env.is_main:
            path = self.checkpoints.save_best(self._eval_generator(), self._card())
            yield CheckpointSaved(step=pos.step, epoch=pos.epoch, weights_path=str(path), state_path="",
                                  reason="best")

    def _card(self) -> dict[str, Any]:
        cfg = self.cfg
        return {
            "run": cfg.name, "step": self.pos.step, "epoch": self.pos.epoch,
            "data": cfg.data.path, "data_format": cfg.data.format, "direction": cfg.data.direction,
            "crop_size": list(cfg.data.crop_size), "arch": cfg.generator.arch, "depth": cfg.generator.depth,
            "ngf": cfg.generator.ngf, "norm": cfg.generator.norm, "input_encoding": cfg.generator.input_encoding,
            "upsample": cfg.generator.upsample, "d_scales": cfg.discriminator.scales,
            "d_kind": cfg.discriminator.kind, "lambda_seg": cfg.train.lambda_seg,
            "gan_mode": cfg.train.gan_mode, "lambda_l1": cfg.train.lambda_l1, "lambda_feat": cfg.train.lambda_feat,
            "ema_decay": cfg.train.ema_decay, **({"weights": "ema"} if self.ema is not None else {}),
            "best_val_l1": self.pos.best_val_l1, "best_realism": self.pos.best_realism,
            "modulation": cfg.generator.modulation, "painted_share": cfg.data.painted_share,
            "rare_threshold": cfg.data.rare_threshold,
            **({"init_from": cfg.train.init_from} if cfg.train.init_from else {}),
            "class_pixel_share": self.class_pixel_share(),
            "trained_with": f"roadstudio {__version__}",
        }

    def class_pixel_share(self) -> dict[str, float]:
        """Share of the training label pixels seen so far, per class name (unlabeled included)."""
        total = max(1, sum(self.pos.class_pixels))
        return {PALETTE[c].name: round(v / total, 6) for c, v in enumerate(self.pos.class_pixels)}

    def training_state(self) -> dict[str, Any]:
        """The full state at this step boundary (keys documented in core.train.state)."""
        pos, cfg = self.pos, self.cfg
        patch = ({"discriminator": unwrap(self.d).state_dict(), "optimizer_D": self.opt_d.state_dict()}
                 if self.d is not None and self.opt_d is not None else {})
        return {
            "format": STATE_FORMAT,
            "generator": unwrap(self.g).state_dict(),
            **patch,
            "optimizer_G": self.opt_g.state_dict(),
            "scheduler": {"base_lr": cfg.train.lr, "lr": self.opt_g.param_groups[0]["lr"], "epoch": pos.epoch},
            "step": pos.step,
            "epoch": pos.epoch,
            "consumed": pos.consumed,
            "best_val_l1": pos.best_val_l1,
            "best_realism": pos.best_realism,
            "class_pixels": list(pos.class_pixels),
            "collapse_streak": self.collapse.streak,
            "train_pairs": len(self.train_src),
            "rng": capture_rng_state(),
            "config": to_dict(cfg),
            "generator_config": to_dict(cfg.generator),
            "card": self._card(),
            **({"ema_generator": self.ema.state_dict()} if self.ema is not None else {}),
            **(self.seg.state() if self.seg is not None else {}),
        }

    def _save(self, reason: str) -> CheckpointSaved:
        pos = self.pos
        self.last_saved_step = pos.step
        weights, state = self.paths.last_weights, self.paths.last_state
        if self.env.is_main:
            # With an EMA the weights file holds the EMA generator, and the raw G goes beside it.
            raw = (unwrap(self.g), {**self._card(), "weights": "raw"}) if self.ema is not None else None
            weights, state = self.checkpoints.save_step(pos.step, self._eval_generator(), self.training_state(),
                                                        self._card(), raw=raw)
        return CheckpointSaved(step=pos.step, epoch=pos.epoch, weights_path=str(weights), state_path=str(state),
                               reason=reason)

    def _last_checkpoint(self) -> str | None:
        return str(self.paths.last_weights) if self.paths.last_weights.exists() else None


def _realism_tracker(cfg: RunConfig, warnings: list[str], *, own_data: bool) -> Any:
    """A core.eval.realism.RealismTracker when the run opened a dataset folder of real photos
    (own_data; not the synthetic streets, not pairs handed in by a caller) and the segmenter is
    installed, else None (a segmenter that cannot be loaded is a warning)."""
    from core.eval import realism  # lazily: only runs that validate need it

    if not own_data or not realism.realism_applies(cfg.data.path, cfg.data.format, cfg.data.crop_size):
        return None
    try:
        return realism.RealismTracker(realism.load_segmenter())
    except UserError as exc:
        warnings.append(f"realism score off: {exc}")
        return None


def _discriminator_loss(named: dict[str, float]) -> float:
    """The D loss the collapse monitor watches: the PatchGAN's, else the segmentation D's."""
    if "D_real" in named:
        return 0.5 * (named["D_real"] + named["D_fake"])
    return 0.5 * (named["D_seg_real"] + named["D_seg_fake"])


def _realism_fields(score: dict[str, float]) -> dict[str, Any]:
    return {"realism": score["miou"], "realism_pixel_acc": score["pixel_acc"],
            "realism_class_acc": score["class_acc"], "realism_real": score["real_miou"]}


__all__ = ["CollapseMonitor", "make_optimizers", "resume_config", "train", "wrap_models"]
