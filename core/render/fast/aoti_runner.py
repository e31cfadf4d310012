"""AOTInductor backend: the generator compiled ahead of time by TorchInductor with weight
freezing into a package (.pt2) that loads in well under a second.

Compiling takes 15-50 s on a 2-core CPU and needs a C++ compiler, so it never runs in the
app's process: `start_aoti_build` launches `python -m core.render.fast.aoti_build` in the
background, which compiles, checks the package against eager within the tolerance, and only then
publishes it under its cache key; a package that does not match leaves a `.rejected` note
instead, so it is not compiled again. A package serves one padded canvas size (static shapes;
dynamic height/width also match eager once BatchNorm is pre-folded, speed not compared yet), so
each size the user paints at gets its own build, once. BatchNorm is folded into the convolutions
before export (fold.py): inductor's own folding under freezing gave wrong outputs for transposed
convs (up to 0.31 off). Packages are tied to the torch version and the CPU instruction set, both
part of the key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from core.config import GeneratorConfig
from core.render.fast.cache import artifact_key
from core.render.fast.fold import fold_batchnorm

#: A build lock older than this is treated as left behind by a killed build.
STALE_LOCK_S = 30 * 60


@dataclass(frozen=True)
class AotiPaths:
    package: Path
    lock: Path
    log: Path
    weights: Path  # the weights handed to the build process
    rejected: Path  # written when the package did not match eager: not built again


def aoti_paths(config: GeneratorConfig, digest: str, cache_dir: Path, shape: tuple[int, int]) -> AotiPaths:
    key = artifact_key(digest, config, "aoti", {"shape": list(shape), "freezing": True, "folded_bn": 1})
    base = Path(cache_dir) / f"aoti-{key}"
    return AotiPaths(package=base.with_suffix(".pt2"), lock=base.with_suffix(".lock"),
                     log=base.with_suffix(".log"), weights=base.with_suffix(".safetensors"),
                     rejected=base.with_suffix(".rejected"))


def aoti_unavailable_reason() -> str | None:
    """Why AOTInductor cannot be built here, or None."""
    if getattr(sys, "frozen", False):
        return "the packaged app cannot run the compiler process"
    if sys.platform == "win32":
        return "AOTInductor builds are not set up on Windows"
    inductor = getattr(torch, "_inductor", None)
    if inductor is None or not hasattr(inductor, "aoti_compile_and_package"):
        return f"torch {torch.__version__} has no AOTInductor packaging"
    compiler = os.environ.get("CXX") or "g++"
    if shutil.which(compiler) is None and shutil.which("c++") is None and shutil.which("clang++") is None:
        return "no C++ compiler found (g++ or clang++)"
    return None


class AotiRunner:
    name = "aoti"

    def __init__(self, package: Path) -> None:
        self.path = package
        # AOTInductor's loader lives in torch._inductor (its documented entry point, not re-exported).
        self._runner = torch._inductor.aoti_load_package(str(package))  # noqa: SLF001 - see above

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._runner(x.contiguous())


def compile_aoti_package(model: nn.Module, config: GeneratorConfig, out: Path, shape: tuple[int, int]) -> Path:
    """Compile `model` (CPU, eval) for input (1, C, *shape) to an AOTInductor package. Slow."""
    import torch._inductor.config as inductor_config

    # Freezing folds BatchNorm into the convs and pre-packs weights for oneDNN: the speed-up.
    # It must be set globally; per-call options were silently ignored in torch 2.x.
    inductor_config.freezing = True
    example = torch.zeros(1, config.input_nc, *shape)
    # BatchNorm folded by us: inductor's own folding was wrong for ConvTranspose2d (see fold.py)
    model = fold_batchnorm(model.to("cpu").eval())
    with torch.no_grad():
        program = torch.export.export(model, (example,))
        # documented AOTInductor entry point, only reachable through torch._inductor
        path = torch._inductor.aoti_compile_and_package(program, package_path=str(out))  # noqa: SLF001 - as the loader
    return Path(path)


def _lock_is_live(lock: Path) -> bool:
    try:
        return time.time() - lock.stat().st_mtime < STALE_LOCK_S
    except FileNotFoundError:
        return False


def start_aoti_build(model: nn.Module, config: GeneratorConfig, paths: AotiPaths, shape: tuple[int, int],
                     tolerance: float) -> subprocess.Popen[bytes] | None:
    """Launch the background build unless one is running; None when nothing was started."""
    from core.weights.checkpoints import save_weights

    paths.package.parent.mkdir(parents=True, exist_ok=True)
    if paths.package.is_file() or paths.rejected.is_file() or _lock_is_live(paths.lock):
        return None
    try:
        fd = os.open(paths.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:  # a stale lock: take it over
        paths.lock.touch()
    else:
        os.close(fd)
    try:
        save_weights(paths.weights, model, config)
        log = open(paths.log, "wb")  # noqa: SIM115 - handed to the child process
    except OSError:
        paths.lock.unlink(missing_ok=True)
        raise
    cmd = [sys.executable, "-m", "core.render.fast.aoti_build", str(paths.weights), str(paths.package),
           "--height", str(shape[0]), "--width", str(shape[1]),
           "--tolerance", str(tolerance), "--lock", str(paths.lock)]
    env = dict(os.environ)
    # below normal priority: the live preview keeps the CPU while the compiler works
    kwargs: dict[str, object] = {"preexec_fn": lambda: os.nice(10)} if hasattr(os, "nice") else {}
    try:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, **kwargs)  # type: ignore[call-overload]
    finally:
        log.close()
