"""Inference: label map in, photo out.

A `Predictor` owns one generator on one device. `predict(ids)` takes a uint8 H×W label-id map of
any size, pads it to the U-Net's multiple (2**depth), runs the model and crops back to H×W×3
uint8 RGB. It is deterministic by default (eval mode: dropout off, BatchNorm running stats);
`variation=seed` switches the dropout layers on with noise drawn from a private generator seeded
with `seed`, so a variation depends only on the seed and never touches the global RNG (a training
run in another thread keeps its exact random stream).

Speed: on CPU the deterministic path runs through `core.render.fast` (an AOTInductor package or
ONNX Runtime, whichever is ready and matches eager within 1e-3), falling back to eager PyTorch
on any failure; `backend` picks one explicitly ("eager" turns fast paths off). Export, compile and
verification happen here, at load, in the caller's thread (the app's inference worker); the
AOTInductor compile runs in a background process and is swapped in when it is published.

Thread-safety: one Predictor is used from one thread at a time (the app's inference worker, or
the CLI). torch's intra-op thread count is process-wide; `threads` sets it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from core.weights.checkpoints import LoadedGenerator, load_any_generator
from core.config import GeneratorConfig
from core.errors import ConfigError
from core.render.fast import FastPath, default_backend
from core.labels import ID_TO_COLOR, ID_TO_PALETTE_INDEX, NUM_PALETTE_CLASSES

#: Largest canvas side predict() accepts; bigger maps would need many GB of activations.
MAX_SIDE = 8192

_DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(choice: str | torch.device = "auto") -> torch.device:
    """auto: CUDA, else Apple MPS, else CPU. An explicit device that is not there is a ConfigError."""
    if isinstance(choice, torch.device):
        return choice
    name = choice.split(":")[0]
    if name not in _DEVICES:
        raise ConfigError(f"device = {choice!r} is not one of {', '.join(_DEVICES)}")
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps is not None and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_ok else torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device = 'cuda' was asked for, but PyTorch sees no CUDA GPU; use auto or cpu")
    if name == "mps" and not mps_ok:
        raise ConfigError("device = 'mps' was asked for, but Apple Metal (MPS) is not available; use auto or cpu")
    return torch.device(choice)


def pad_to_multiple(ids: np.ndarray, multiple: int) -> np.ndarray:
    """Pad bottom/right to a multiple of `multiple` by mirroring the map (a road keeps going,
    the sky stays above), so the model sees a plausible scene at the borders; a 1-pixel side
    is repeated instead. Top-left stays at the origin: a canvas that already is a multiple is
    computed exactly as in training."""
    h, w = ids.shape
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return ids
    mode = "reflect" if min(h, w) > 1 else "edge"
    return np.pad(ids, ((0, ph), (0, pw)), mode=mode)  # type: ignore[call-overload]


def validate_label_ids(ids: Any) -> np.ndarray:
    """A uint8 H×W label-id array, or ValueError saying what is wrong."""
    if not isinstance(ids, np.ndarray):
        raise ValueError(f"label ids must be a numpy array, got {type(ids).__name__}")
    if ids.ndim != 2:
        raise ValueError(f"label ids must be H×W, got shape {ids.shape}")
    if ids.size == 0:
        raise ValueError(f"label map is empty (shape {ids.shape})")
    if max(ids.shape) > MAX_SIDE:
        raise ValueError(f"label map {ids.shape[1]}×{ids.shape[0]} is too large (limit {MAX_SIDE} px a side)")
    if ids.dtype != np.uint8:
        if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() > 255:
            raise ValueError(f"label ids must be uint8 (0..255), got {ids.dtype}")
        ids = ids.astype(np.uint8)
    if not ids.flags.writeable:
        ids = ids.copy()  # torch refuses to wrap read-only arrays (PIL's) without a warning
    return ids


# Pre- and post-processing on the live-preview path, in numpy with lookup tables: the same
# values as core.models.encoding.encode_labels / tensor_to_photo (same float32 operations, round half to
# even), but 20-50× faster at 256×512 than torch's one_hot/gather on a busy 2-core CPU, where each
# small torch op pays for waking its thread pool.
_COLOR_LUT = (ID_TO_COLOR.astype(np.float32) / np.float32(127.5) - np.float32(1.0)).T.copy()  # (3, 256)
_CLASS_RANGE = np.arange(NUM_PALETTE_CLASSES, dtype=np.uint8)[:, None, None]


def encode_ids(ids: np.ndarray, encoding: str, all_hole: bool = False) -> torch.Tensor:
    """uint8 H×W label ids -> float32 (1, C, H, W), equal to encode_labels(ids, encoding)[None];
    `all_hole`: followed by a photo-edit generator's 4 extra channels for "no photo" (core.models.encoding
    .photo_condition: blank photo, hole everywhere)."""
    if encoding == "onehot":
        index = ID_TO_PALETTE_INDEX[ids]  # (H, W) palette channel of every pixel
        out = (index[None] == _CLASS_RANGE).astype(np.float32)
    elif encoding == "color":
        out = _COLOR_LUT[:, ids]  # (3, H, W)
    else:
        raise ValueError(f"unknown input encoding {encoding!r}")
    if all_hole:
        extra = np.zeros((4, *ids.shape), np.float32)
        extra[3] = 1.0
        out = np.concatenate([out, extra])
    return torch.from_numpy(out[None])


def to_photo(y: torch.Tensor) -> np.ndarray:
    """float (3, H, W) in [-1, 1] -> uint8 H×W×3, equal to core.models.encoding.tensor_to_photo."""
    arr = y.detach().to("cpu", torch.float32).numpy()
    arr = np.rint((np.clip(arr, -1.0, 1.0) + np.float32(1.0)) * np.float32(127.5))
    return np.ascontiguousarray(arr.astype(np.uint8).transpose(1, 2, 0))


class _SeededDropout:
    """Forward hooks that apply dropout to the (eval-mode, identity) Dropout layers with masks
    from one private torch.Generator: same seed, same noise, global RNG untouched."""

    def __init__(self, model: nn.Module, seed: int, device: torch.device) -> None:
        self._layers = [m for m in model.modules() if isinstance(m, nn.Dropout)]
        self._gen = torch.Generator(device=device)
        self._gen.manual_seed(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)
        self._handles: list[Any] = []

    def _hook(self, module: nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        p = float(cast(nn.Dropout, module).p)  # hooked on dropout modules only
        keep = torch.rand(output.shape, generator=self._gen, device=output.device) >= p
        return output * keep.to(output.dtype) / (1.0 - p)

    def __enter__(self) -> _SeededDropout:
        self._handles = [m.register_forward_hook(self._hook) for m in self._layers]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


class Predictor:
    """One generator on one device: label ids (any H×W) -> uint8 RGB H×W×3."""

    def __init__(self, loaded: LoadedGenerator, device: str | torch.device = "auto", *,
                 threads: int | None = None, channels_last: bool | None = None,
                 backend: str | None = None, cache_dir: str | Path | None = None,
                 background_build: bool = True, interactive: bool = False) -> None:
        """`interactive`: rendering for a GUI (the app's preview and compare workers): `auto`
        then never picks AOTInductor, whose runner holds the GIL for the whole model call."""
        if threads is not None:
            if threads < 1:
                raise ConfigError(f"threads must be positive, got {threads}")
            torch.set_num_threads(threads)
        self.device = resolve_device(device)
        self._threads = threads
        self.config: GeneratorConfig = loaded.config
        self.card: dict[str, Any] = dict(loaded.card or {})
        self.path: Path = loaded.path
        # channels_last: 1.15-1.3× faster on CPU (oneDNN) for these convs, measured at ngf 32/64
        # 256×256 on torch 2.14; MPS gains nothing.
        self.channels_last = self.device.type in ("cpu", "cuda") if channels_last is None else channels_last
        self._memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        model = loaded.model.to(self.device)
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        self.fast = FastPath(model, self.config, self.device, backend or default_backend(),
                             cache_dir=cache_dir, background_build=background_build, threads=threads,
                             interactive=interactive)
        self.model: nn.Module = model.to(memory_format=self._memory_format)
        self.multiple = self.config.size_multiple  # U-Net and encoder-decoder alike
        self.has_dropout = any(isinstance(m, nn.Dropout) for m in self.model.modules())
        self.last_latency_s: float | None = None
        self.last_backend = self.backend

    @classmethod
    def from_path(cls, path: str | Path, device: str | torch.device = "auto", **kwargs: Any) -> Predictor:
        """Load .safetensors / training .pt (or a reference .pth with reference_netG=...)."""
        ref_keys = {k: kwargs.pop(k) for k in ("reference_netG", "reference_norm") if k in kwargs}
        return cls(load_any_generator(path, **ref_keys), device, **kwargs)

    # ------------------------------------------------------------------ tensors in, tensors out

    def encode(self, ids: np.ndarray) -> torch.Tensor:
        """Padded label ids (H, W) -> the model input (1, C, H, W) on the device. A photo-edit
        ("labels+photo") generator gets an all-hole input: it renders from the labels alone
        (core.edit gives it the photo)."""
        return encode_ids(ids, self.config.input_encoding, self.config.photo_conditioned).to(self.device)

    @property
    def backend(self) -> str:
        """The path deterministic predictions take now: aoti, onnxruntime or eager."""
        return self.fast.name

    @property
    def backend_notes(self) -> list[str]:
        """Why faster paths are not used (empty when the requested one runs)."""
        return list(self.fast.notes)

    def prepare(self, height: int, width: int, *, wait: bool = False) -> None:
        """Get the fastest path ready for a canvas of height×width (padded to the multiple):
        compile it here when `wait`, else in the background. The app calls this when the canvas
        size changes; predict() does it on first use of a size anyway."""
        mult = self.multiple
        self.fast.prepare((-(-height // mult) * mult, -(-width // mult) * mult), wait=wait)

    def close(self) -> None:
        """Stop background work (an AOTInductor build). The Predictor still works afterwards."""
        self.fast.close()

    def __del__(self) -> None:
        fast = getattr(self, "fast", None)
        if fast is not None:
            fast.close()

    def forward(self, x: torch.Tensor, variation: int | None = None) -> torch.Tensor:
        """Model output for an encoded batch whose size is a multiple of `self.multiple`."""
        with torch.inference_mode():
            if variation is None:
                y = self.fast.run(x)
                if y is not None:
                    self.last_backend = self.fast.last_used
                    return y
            self.last_backend = "eager"
            x = x.contiguous(memory_format=self._memory_format)
            if variation is None:
                return self.model(x)
            with _SeededDropout(self.model, variation, self.device):
                return self.model(x)

    # ------------------------------------------------------------------------------ public API

    def predict(self, ids: np.ndarray, variation: int | None = None) -> np.ndarray:
        """uint8 H×W label ids -> uint8 H×W×3 RGB. `variation`: a dropout seed, None = deterministic."""
        start = time.perf_counter()
        ids = validate_label_ids(ids)
        h, w = ids.shape
        x = self.encode(pad_to_multiple(ids, self.multiple))
        y = self.forward(x, variation)
        photo = to_photo(y[0, :, :h, :w])
        self.last_latency_s = time.perf_counter() - start
        return photo

    def padded_shape(self, height: int, width: int) -> tuple[int, int]:
        """The size a height×width map is computed at (padded up to the multiple)."""
        mult = self.multiple
        return -(-height // mult) * mult, -(-width // mult) * mult

    def predict_batch(self, maps: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Deterministic photos for several label maps in one model call. All must pad to the
        same size (padded_shape); each photo equals predict(ids) within float rounding (the
        model sees every map alone: eval-mode BatchNorm has no cross-sample statistics).
        core.render.batch_render groups maps for this and overlaps file I/O with it."""
        start = time.perf_counter()
        checked = [validate_label_ids(ids) for ids in maps]
        if not checked:
            return []
        shapes = {self.padded_shape(*ids.shape) for ids in checked}
        if len(shapes) != 1:
            raise ValueError(f"predict_batch needs maps of one padded size, got {sorted(shapes)}")
        x = torch.cat([self.encode(pad_to_multiple(ids, self.multiple)) for ids in checked])
        y = self.forward(x)
        photos = [to_photo(y[i, :, :ids.shape[0], :ids.shape[1]]) for i, ids in enumerate(checked)]
        self.last_latency_s = time.perf_counter() - start
        return photos

    def switch_backend(self, backend: str, *, cache_dir: str | Path | None = None) -> float:
        """Set up another inference path (export/load/verify as at construction) and return the
        seconds that took. A batch job starts on eager and switches once the set-up pays back."""
        start = time.perf_counter()
        self.fast.close()
        self.fast = FastPath(self.model, self.config, self.device, backend, cache_dir=cache_dir,
                             background_build=False, threads=self._threads)
        self.last_backend = self.backend
        return time.perf_counter() - start
