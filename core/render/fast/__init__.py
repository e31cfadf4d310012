"""Fast inference paths behind `core.render.infer.Predictor`, with automatic fallback to eager PyTorch.

Backends (CPU; on CUDA and MPS the eager model is used):
  aoti         AOTInductor packages compiled with weight freezing: the fastest path measured here
               (docs/performance.md); one per model and padded canvas size, compiled in a
               background process the first time that size is used, cached on disk.
  onnxruntime  the ONNX graph run by ONNX Runtime: a little slower, ready in seconds, any size.
  eager        plain PyTorch (channels_last), always available.
`auto` uses the best path that is ready and verified for the input's size: once the AOTInductor
package is published, the faster of it and ONNX Runtime (timed on this machine for that size,
a few runs), else ONNX Runtime, else eager. Every candidate is checked against eager
within TOLERANCE when it is loaded; any failure (export error, compiler missing, mismatch, an
exception at run time) falls back to the next path and is recorded in `notes`.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from core.config import GeneratorConfig
from core.errors import ConfigError
from core.render.fast.cache import default_cache_dir, weights_digest

BACKENDS = ("auto", "eager", "onnxruntime", "aoti")
ENV_BACKEND = "ROADSTUDIO_INFER_BACKEND"
#: Largest difference to eager PyTorch a fast path may have (outputs are in [-1, 1]).
TOLERANCE = 1e-3

Runner = Callable[[torch.Tensor], torch.Tensor]

__all__ = ["BACKENDS", "ENV_BACKEND", "TOLERANCE", "FastPath", "default_backend", "default_cache_dir"]


def default_backend() -> str:
    """$ROADSTUDIO_INFER_BACKEND or auto."""
    choice = os.environ.get(ENV_BACKEND, "auto").strip().lower() or "auto"
    if choice not in BACKENDS:
        raise ConfigError(f"{ENV_BACKEND} = {choice!r} is not one of {', '.join(BACKENDS)}")
    return choice


class FastPath:
    """The fast runners of one model, or none (then the caller runs eager). Used from one thread."""

    def __init__(self, model: nn.Module, config: GeneratorConfig, device: torch.device, backend: str = "auto",
                 *, cache_dir: str | Path | None = None, background_build: bool = True,
                 threads: int | None = None, tolerance: float = TOLERANCE, interactive: bool = False) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"backend = {backend!r} is not one of {', '.join(BACKENDS)}")
        self.requested = backend
        self.model = model
        self.config = config
        self.tolerance = tolerance
        self.background_build = background_build
        self.notes: list[str] = []
        self.load_s: dict[str, float] = {}
        self.max_abs_diff: dict[str, float] = {}
        self.last_used = "eager"
        self._ran = False
        self._ort: Runner | None = None
        self._aoti: dict[tuple[int, int], Runner] = {}
        self.choice: dict[tuple[int, int], str] = {}  # per padded size: aoti or onnxruntime, the faster
        self.race_ms: dict[tuple[int, int], dict[str, float]] = {}
        self._aoti_failed: set[tuple[int, int]] = set()
        self._aoti_reason: str | None = "not requested"
        self._build: tuple[tuple[int, int], subprocess.Popen[bytes]] | None = None
        self._threads = threads
        self._expected: dict[tuple[int, int], torch.Tensor] = {}
        if backend == "eager":
            return
        if device.type != "cpu":
            self.notes.append(f"fast paths are CPU-only; eager PyTorch on {device.type}")
            return
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._digest = weights_digest(model)
        if backend == "auto" and interactive:
            # AOTInductor's runner holds Python's GIL for the whole model call (seen with py-spy):
            # in the app every preview, and the checks and timing runs when a package is
            # adopted, would freeze the GUI thread for as long (stalls of 100+ ms in the soak),
            # and its background compile competes for the CPU. ONNX Runtime releases the GIL
            # while it runs and was faster in every measurement (docs/performance.md).
            self._aoti_reason = "not used in the app: its runner holds the GIL, freezing the GUI while it runs"
        elif backend in ("auto", "aoti"):
            from core.render.fast.aoti_runner import aoti_unavailable_reason

            self._aoti_reason = aoti_unavailable_reason()
            if self._aoti_reason is not None:
                self.notes.append(f"aoti unavailable ({self._aoti_reason})")
        if backend in ("auto", "onnxruntime"):
            self._ort = self._checked("onnxruntime", self._make_ort, self._sample_shape())

    @property
    def name(self) -> str:
        """The path the last prediction took, or before any the best one ready: aoti,
        onnxruntime or eager."""
        if self._ran:
            return self.last_used
        return "aoti" if self._aoti else "onnxruntime" if self._ort is not None else "eager"

    # -------------------------------------------------------------------------------- set-up

    def _sample_shape(self) -> tuple[int, int]:
        mult = self.config.size_multiple
        return (mult, mult)

    def _checked(self, name: str, make: Callable[[], Runner], shape: tuple[int, int]) -> Runner | None:
        """Build one runner and verify it against eager at `shape`; None (and a note) on failure."""
        start = time.perf_counter()
        try:
            runner = make()
            diff = self._verify(runner, shape)
        except Exception as exc:  # noqa: BLE001 - any failure means: fall back
            text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            self.notes.append(f"{name} unavailable ({type(exc).__name__}: {text})")
            return None
        if not diff <= self.tolerance:
            self.notes.append(f"{name} rejected at {shape[0]}×{shape[1]}: differs from eager by {diff:.3g} "
                              f"(limit {self.tolerance:g})")
            return None
        self.load_s[name] = time.perf_counter() - start
        self.max_abs_diff[name] = max(diff, self.max_abs_diff.get(name, 0.0))
        return runner

    def _verify(self, runner: Runner, shape: tuple[int, int]) -> float:
        from core.weights.onnx_export import sample_input

        x = sample_input(self.config, *shape)
        with torch.inference_mode():
            expected = self._expected.get(shape)
            if expected is None:  # one eager pass per size serves every candidate's check
                expected = self._expected[shape] = self.model(x)
            got = runner(x)
        if got.shape != expected.shape:
            return float("inf")
        return float((got - expected).abs().max())

    def _make_ort(self) -> Runner:
        from core.render.fast.ort_runner import build_ort_runner

        return build_ort_runner(self.model, self.config, self._digest, self.cache_dir, self._threads)

    def prepare(self, shape: tuple[int, int], *, wait: bool = False) -> None:
        """Make the AOTInductor package for padded size `shape` ready: load it from the cache,
        or compile it (here when `wait`, else in a background process)."""
        from core.render.fast import aoti_runner

        shape = (int(shape[0]), int(shape[1]))
        if self._aoti_reason is not None or shape in self._aoti or shape in self._aoti_failed:
            return
        paths = aoti_runner.aoti_paths(self.config, self._digest, self.cache_dir, shape)
        if paths.package.is_file():
            self._adopt_aoti(shape, lambda: aoti_runner.AotiRunner(paths.package))
            return
        if paths.rejected.is_file():
            self._aoti_failed.add(shape)
            self.notes.append(f"aoti for {shape[0]}×{shape[1]}: "
                              + paths.rejected.read_text(encoding="utf-8", errors="replace").strip())
            return
        if wait:
            def build() -> Runner:
                aoti_runner.compile_aoti_package(self.model, self.config, paths.package, shape)
                return aoti_runner.AotiRunner(paths.package)

            if not self._adopt_aoti(shape, build):
                paths.package.unlink(missing_ok=True)
                if self.notes and "differs from eager" in self.notes[-1]:
                    paths.rejected.write_text(self.notes[-1] + "\n", encoding="utf-8")
            return
        if self.background_build and self._build is None:
            try:
                proc = aoti_runner.start_aoti_build(self.model, self.config, paths, shape, self.tolerance)
            except Exception as exc:  # noqa: BLE001 - any failure means eager; the note says why
                self.notes.append(f"aoti build could not start ({type(exc).__name__}: {exc})")
                self._aoti_failed.add(shape)
                return
            if proc is not None:
                self._build = (shape, proc)

    def _adopt_aoti(self, shape: tuple[int, int], make: Callable[[], Runner]) -> bool:
        runner = self._checked("aoti", make, shape)
        if runner is None:
            self._aoti_failed.add(shape)
            return False
        self._aoti[shape] = runner
        self.choice[shape] = self._race(shape, runner)
        return True

    def _race(self, shape: tuple[int, int], aoti: Runner) -> str:
        """Which of AOTInductor and ONNX Runtime is faster here, for this size: a few interleaved
        runs (which one wins depends on the CPU and on how busy it is)."""
        if self._ort is None:
            return "aoti"
        from core.weights.onnx_export import sample_input

        x = sample_input(self.config, *shape)
        runners = {"aoti": aoti, "onnxruntime": self._ort}
        best = {name: float("inf") for name in runners}
        try:
            with torch.inference_mode():
                for round_ in range(3):
                    for name, runner in runners.items():
                        t0 = time.perf_counter()
                        runner(x)
                        if round_:  # the first round warms up
                            best[name] = min(best[name], time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - any failure means eager; the note says why
            self.notes.append(f"timing aoti against onnxruntime failed ({type(exc).__name__}); using aoti")
            return "aoti"
        self.race_ms[shape] = {k: v * 1000 for k, v in best.items()}
        return min(best, key=best.__getitem__)

    # ------------------------------------------------------------------------------ running

    @property
    def building(self) -> tuple[int, int] | None:
        """The size an AOTInductor build is running for, if any."""
        if self._build is not None and self._build[1].poll() is None:
            return self._build[0]
        return None

    def poll(self) -> None:
        """Adopt the package of a finished background build."""
        if self._build is None or self._build[1].poll() is None:
            return
        (shape, proc), self._build = self._build, None
        from core.render.fast import aoti_runner

        paths = aoti_runner.aoti_paths(self.config, self._digest, self.cache_dir, shape)
        if proc.returncode == 0 and paths.package.is_file():
            self._adopt_aoti(shape, lambda: aoti_runner.AotiRunner(paths.package))
        else:
            self._aoti_failed.add(shape)
            self.notes.append(f"aoti build for {shape[0]}×{shape[1]} failed (exit {proc.returncode}; "
                              f"log: {paths.log})")

    def wait_for_build(self, timeout_s: float | None = None) -> None:
        """Block until a background build ends, or `timeout_s` passes (None: however long it
        takes; benchmarks and tests, whose verdict must not depend on how busy the machine is)."""
        if self._build is not None:
            try:
                self._build[1].wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                return
        self.poll()

    def run(self, x: torch.Tensor) -> torch.Tensor | None:
        """The fast output for `x` (1, C, H, W), or None: the caller runs eager."""
        self.poll()
        self._ran = True
        shape = (int(x.shape[2]), int(x.shape[3]))
        if x.shape[0] == 1 and self.requested in ("auto", "aoti"):
            self.prepare(shape, wait=self.requested == "aoti")
            runner = self._aoti.get(shape)
            if runner is not None and (self.requested == "aoti" or self.choice.get(shape) != "onnxruntime"):
                try:
                    out = runner(x)
                    self.last_used = "aoti"
                    return out
                except Exception as exc:  # noqa: BLE001 - never fail a preview because of a fast path
                    self.notes.append(f"aoti failed at run time ({type(exc).__name__}: {exc}); not used again")
                    self._aoti.clear()
                    self._aoti_reason = "failed at run time"
        if self._ort is not None:
            try:
                out = self._ort(x)
                self.last_used = "onnxruntime"
                return out
            except Exception as exc:  # noqa: BLE001 - any failure means eager; the note says why
                self.notes.append(f"onnxruntime failed at run time ({type(exc).__name__}: {exc}); not used again")
                self._ort = None
        self.last_used = "eager"
        return None

    def close(self) -> None:
        """Stop a background build (it removes its own lock and temp files on SIGTERM)."""
        if self._build is not None and self._build[1].poll() is None:
            proc = self._build[1]
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._build = None
