"""Choosing the device and the speed options it supports."""

from __future__ import annotations

import torch

from core.config import TrainConfig
from core.errors import ConfigError


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def select_device(choice: str, local_rank: int = 0) -> torch.device:
    """auto: CUDA, else Apple MPS, else CPU. An explicit choice that is not available is a
    ConfigError the user can act on (never a silent fallback to a 100× slower device)."""
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device = 'cuda' was asked for, but PyTorch sees no CUDA GPU "
                              f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); "
                              "use --device auto or --device cpu")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if choice == "mps":
        if not mps_available():
            raise ConfigError("device = 'mps' was asked for, but Apple Metal (MPS) is not available here; "
                              "use --device auto or --device cpu")
        return torch.device("mps")
    if choice == "cpu":
        return torch.device("cpu")
    raise ConfigError(f"device = {choice!r} is not one of auto, cpu, cuda, mps")


def cuda_only_options(cfg: TrainConfig, device: torch.device) -> tuple[bool, bool, bool, list[str]]:
    """(bf16, channels_last, compile) as they will actually be used, and a warning for each
    option that was asked for but is ignored because the device does not support it.

    channels_last is also used on the CPU for batches of 2 or more (or when asked): oneDNN's
    convolutions, forward and backward, ran the step 3-14 % faster on NHWC tensors at batch 4
    (ngf 32/64 on the 2-core dev CPU, docs/performance.md) but gained nothing at batch 1 (0.93-1.09×
    in five runs); it changes no result beyond float rounding. Presets may ask for it at batch 1
    (default-model does: 1.06-1.17× there). bf16 and compile stay CUDA-only, measured again at the
    default-model size for issue 18 (benchmarks/train_step_bench.py): bf16 autocast ran the CPU step
    at 0.37-0.56× even with AVX512-BF16 (no AMX), and torch.compile (inductor, C++) took 208 s to
    compile and then ran 0.98× eager at batch 1 (1.08× with fused Adam, which eager has too): 77 %
    of the step is oneDNN convolutions, which inductor calls just as eager does."""
    warnings: list[str] = []
    on_cuda = device.type == "cuda"
    used = []
    for name, asked in (("bf16", cfg.bf16), ("channels_last", cfg.channels_last), ("compile", cfg.compile)):
        if name == "channels_last" and device.type == "cpu":
            used.append(asked or cfg.batch_size >= 2)
            continue
        if asked and not on_cuda:
            warnings.append(f"{name} is only used on CUDA; ignored on {device.type}")
        used.append(asked and on_cuda)
    return used[0], used[1], used[2], warnings
