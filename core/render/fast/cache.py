"""Where fast-path artifacts (ONNX graphs, AOTInductor packages) are cached, and their keys.

A key covers everything that makes an artifact valid: the exact weights (SHA-256 of every
tensor), the model config, the backend, and the versions of what generated and runs the code
(torch, onnxruntime, Python, the CPU instruction set torch dispatches to). A changed model or an
upgraded torch simply gets a new file; stale files are harmless and can be deleted any time.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from pathlib import Path

import torch
from torch import nn

from core.config import GeneratorConfig, to_dict

ENV_CACHE_DIR = "ROADSTUDIO_CACHE_DIR"


def default_cache_dir() -> Path:
    """$ROADSTUDIO_CACHE_DIR, else the platform's user cache folder + roadstudio."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "roadstudio" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "roadstudio"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "roadstudio"


def weights_digest(model: nn.Module) -> str:
    """SHA-256 over every parameter and buffer (name, dtype, shape, bytes)."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def runtime_fingerprint(backend: str) -> dict[str, str]:
    info = {"torch": torch.__version__, "python": platform.python_version(),
            "machine": platform.machine(), "cpu": torch.backends.cpu.get_cpu_capability()}
    if backend == "onnxruntime":
        try:
            import onnxruntime

            info["onnxruntime"] = onnxruntime.__version__
        except ImportError:
            info["onnxruntime"] = "missing"
    return info


def artifact_key(digest: str, config: GeneratorConfig, backend: str, extra: dict[str, object] | None = None) -> str:
    payload = {"weights": digest, "config": to_dict(config), "backend": backend,
               "runtime": runtime_fingerprint(backend), "extra": extra or {}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]
