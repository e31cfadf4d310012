"""Checkpoint files: this module owns loading every kind of generator file.

* Weights (`.safetensors`): the generator's tensors, with the GeneratorConfig and a model card
  (step, epoch, run name, data) as JSON strings in the safetensors metadata. For sharing and
  inference; loading cannot run code.
* Training state (`.pt`): everything needed to continue a run exactly — both nets, both
  optimizers, scheduler, step, epoch, RNG states, data position. Contains only tensors and
  plain Python values and is loaded with `torch.load(weights_only=True)`, which refuses pickles
  that carry code.
* Reference pix2pix generators (`latest_net_G.pth`): a plain state dict, read here with the same
  refusal of code-carrying pickles; core.weights.reference_import renames its keys to our layout.

`load_any_generator` takes any of the three. All writes are atomic (temp file + os.replace).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from core.io.atomic import atomic_path
from core.config import GeneratorConfig, from_dict, to_dict
from core.errors import CheckpointError, ConfigError
from core.models import UNetGenerator, build_generator
from core.weights.reference_import import detect_reference_layout, generator_from_reference_state, reference_depth

FORMAT_VERSION = "1"
META_KEY_CONFIG = "roadstudio.generator"
META_KEY_CARD = "roadstudio.card"
META_KEY_FORMAT = "roadstudio.format"


@dataclass(frozen=True)
class LoadedGenerator:
    model: UNetGenerator  # on CPU, eval mode
    config: GeneratorConfig
    card: dict[str, Any]  # free-form model card: step, epoch, run, data, source, ...
    path: Path


def save_weights(path: str | Path, model: torch.nn.Module, config: GeneratorConfig,
                 card: dict[str, Any] | None = None) -> Path:
    """Write generator weights + config + card to a .safetensors file atomically."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in unwrap(model).state_dict().items()}
    metadata = {
        META_KEY_FORMAT: FORMAT_VERSION,
        META_KEY_CONFIG: json.dumps(to_dict(config)),
        META_KEY_CARD: json.dumps(card or {}),
    }
    with atomic_path(path) as tmp:
        try:
            save_file(state, str(tmp), metadata=metadata)
        except SafetensorError as exc:
            # safetensors reports I/O failures (disk full, ...) as its own error type; callers
            # handle failed writes as OSError, with the errno it carries.
            found = re.search(r"os error (\d+)", str(exc))
            if found is None:
                raise
            code = int(found.group(1))
            raise OSError(code, os.strerror(code), str(path)) from None
    return path


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module under DistributedDataParallel / torch.compile wrappers."""
    inner = getattr(model, "module", None)
    if isinstance(inner, torch.nn.Module):
        model = inner
    orig = getattr(model, "_orig_mod", None)
    return orig if isinstance(orig, torch.nn.Module) else model


def read_weights_metadata(path: str | Path) -> tuple[GeneratorConfig, dict[str, Any]]:
    path = Path(path)
    _require_file(path)
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(path, f"not a readable .safetensors file ({exc})") from None
    if META_KEY_CONFIG not in meta:
        raise CheckpointError(path, "a .safetensors file without a Road Studio model config "
                                    "(import reference pix2pix weights with `roadstudio-cli import-reference`)")
    try:
        config = from_dict(GeneratorConfig, json.loads(meta[META_KEY_CONFIG]))
        card = json.loads(meta.get(META_KEY_CARD, "{}"))
    except (json.JSONDecodeError, ConfigError) as exc:
        raise CheckpointError(path, f"model config in the metadata is invalid ({exc})") from None
    return config, card


def load_weights(path: str | Path) -> LoadedGenerator:
    path = Path(path)
    config, card = read_weights_metadata(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(path, f"weights could not be read ({exc})") from None
    model = build_generator(config, init=False)
    _load_state(model, state, path)
    model.eval()
    return LoadedGenerator(model=model, config=config, card=card, path=path)


def _load_state(model: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0:2]
        raise CheckpointError(path, "weights do not fit the model config: " + " ".join(first)) from None


# ------------------------------------------------------------------------------ training state


def save_training_state(path: str | Path, state: dict[str, Any]) -> Path:
    """Atomically write a full training state (tensors and plain values only)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_training_state(path: str | Path) -> dict[str, Any]:
    """Load a training state with weights_only=True: a pickle carrying code is refused."""
    path = Path(path)
    _require_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(path, describe_refused_pickle(exc)) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(path, f"not a readable training checkpoint ({_short(exc)})") from None
    if not isinstance(state, dict) or "generator" not in state:
        raise CheckpointError(path, "not a Road Studio training checkpoint (no generator state)")
    return state


def load_generator_from_state(path: str | Path) -> LoadedGenerator:
    """The generator of a full training checkpoint, for inference."""
    path = Path(path)
    state = load_training_state(path)
    try:
        config = from_dict(GeneratorConfig, state["generator_config"])
    except (KeyError, ConfigError, TypeError) as exc:
        raise CheckpointError(path, f"training checkpoint has no valid generator config ({exc})") from None
    model = build_generator(config, init=False)
    _load_state(model, state["generator"], path)
    model.eval()
    card = dict(state.get("card", {}))
    card.setdefault("step", state.get("step"))
    card.setdefault("epoch", state.get("epoch"))
    return LoadedGenerator(model=model, config=config, card=card, path=path)


def load_any_generator(path: str | Path, *, reference_netG: str | None = None,
                       reference_norm: str = "batch") -> LoadedGenerator:
    """Load a generator from .safetensors, a full training .pt, or (with reference_netG) a
    reference pix2pix `latest_net_G.pth`. The error names the file and the problem."""
    path = Path(path)
    _require_file(path)
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return load_weights(path)
    if suffix in (".pt", ".pth"):
        if reference_netG is not None:
            return import_reference_generator(path, reference_netG, reference_norm)
        state = _try_state(path)
        if state is not None and "generator" in state:
            return load_generator_from_state(path)
        if state is not None:
            layout = detect_reference_layout(state)
            if layout is None:
                raise CheckpointError(path, "not a generator checkpoint (neither a Road Studio training "
                                            "checkpoint nor a reference pix2pix U-Net generator)")
            raise CheckpointError(path, f"looks like a reference pix2pix {layout[0]} generator ({layout[1]} "
                                        "norm); import it with `roadstudio-cli import-reference` "
                                        "(or the Model menu's importer)")
        return load_generator_from_state(path)  # raises the precise error
    raise CheckpointError(path, f"unsupported checkpoint type {suffix or '(no extension)'}; "
                                "expected .safetensors, .pt or .pth")


def import_reference_generator(path: str | Path, netG: str = "unet_256", norm: str = "batch") -> LoadedGenerator:
    """Load a reference `latest_net_G.pth` as a LoadedGenerator (CPU, eval mode, color input)."""
    path = Path(path)
    reference_depth(netG, norm)  # a bad netG / norm is named before the file is read
    model, config, card = generator_from_reference_state(_read_reference_state(path), netG, norm, source=path)
    return LoadedGenerator(model=model, config=config, card=card, path=path)


def sniff_reference_file(path: str | Path) -> tuple[str, str] | None:
    """(netG, norm) when `path` holds a reference pix2pix U-Net generator, else None.
    Never raises for unreadable files (the caller's loader reports those precisely)."""
    try:
        state = _read_reference_state(Path(path))
    except CheckpointError:
        return None
    return detect_reference_layout(state)


def describe_unpickling_error(exc: BaseException) -> str:
    """A one-line reason for a refused `torch.load(weights_only=True)` of a reference file (never
    torch's advice to load it unsafely)."""
    return describe_refused_pickle(
        exc, other="not a PyTorch weights file, or one that holds more than tensors; refused")


def _read_reference_state(path: Path) -> dict[str, torch.Tensor]:
    _require_file(path, "a .pth file")
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols of foreign files; the error below says it better
            warnings.simplefilter("ignore")
            state: Any = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(path, describe_unpickling_error(exc)) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(path, f"not a readable PyTorch weights file ({type(exc).__name__})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(path, "not a plain state dict of tensors (a reference latest_net_G.pth is one)")
    return state


def _try_state(path: Path) -> dict[str, Any] | None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - the caller reports the precise error
        return None
    return state if isinstance(state, dict) else None


def _require_file(path: Path, what: str = "a checkpoint file") -> None:
    if not path.exists():
        raise CheckpointError(path, "no such file")
    if path.is_dir():
        raise CheckpointError(path, f"is a folder, not {what}")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "the file is empty (0 bytes)")


_REFUSED_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def describe_refused_pickle(exc: BaseException, *, other: str | None = None) -> str:
    """What `torch.load(weights_only=True)` refused and why, in one line. Never torch's own text:
    it advises re-running with weights_only=False or allow-listing the global, i.e. running the
    very code that was refused. `other`: the reason when no code reference was named."""
    found = _REFUSED_GLOBAL.search(str(exc))
    if found is not None:
        return (f"refused to load: the file contains Python objects that could run code (it references "
                f"{found.group(1)}); checkpoints are loaded as tensors and plain values only")
    return other or ("refused to load: the file holds Python objects other than tensors and plain values; "
                     "checkpoints are loaded as tensors and plain values only")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
