"""Export a generator to ONNX, verified against torch with ONNX Runtime.

The graph takes the encoded label map (N, C, H, W) float32 (for a photo-edit generator followed
by the masked photo and the hole mask, core.models.encoding.encode_input) and returns the photo
(N, 3, H, W) in [-1, 1]; batch, height and width are dynamic axes (any multiple of 2**depth). The file carries
the model config and card as metadata (`roadstudio.generator`, `roadstudio.card`). The export is
written to a temp file, checked with ONNX Runtime (max abs difference to torch <= 1e-4 on a
label map of the requested size) and only then moved into place, so a failed export leaves no
file behind.

onnx and onnxruntime are optional (`pip install 'roadstudio[onnx]'`). torch 2.14's default
exporter (dynamo) needs onnxscript, which the project does not depend on; the TorchScript-based
exporter handles this plain conv net reliably, so it is used explicitly.
"""

from __future__ import annotations

import io
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.io.atomic import atomic_path
from core.weights.checkpoints import LoadedGenerator
from core.config import GeneratorConfig, to_dict
from core.models.encoding import encode_input
from core.errors import ConfigError, UserError
from core.labels import PALETTE_IDS
from core.threads import spinning_allowed

#: ONNX opset: supported by onnx >= 1.13 and onnxruntime >= 1.14, and by torch's TorchScript exporter.
OPSET = 18
#: Largest allowed difference between ONNX Runtime and torch outputs (outputs are in [-1, 1]).
TOLERANCE = 1e-4
INPUT_NAME = "labels"
OUTPUT_NAME = "photo"


class OnnxExportError(UserError):
    """ONNX packages missing, or the exported graph does not reproduce the model."""


@dataclass(frozen=True)
class OnnxExportReport:
    path: Path
    height: int
    width: int
    opset: int
    max_abs_diff: float
    seconds: float
    size_bytes: int


def require_onnx() -> tuple[Any, Any]:
    """The onnx and onnxruntime modules, or an OnnxExportError telling how to install them."""
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise OnnxExportError(f"ONNX export needs the optional packages onnx and onnxruntime ({exc.name} "
                              "is missing); install them with: pip install 'roadstudio[onnx]'") from None
    return onnx, onnxruntime


def check_export_size(config: GeneratorConfig, height: int, width: int) -> None:
    mult = config.size_multiple
    if height <= 0 or width <= 0 or height % mult or width % mult:
        raise ConfigError(f"export size {height}×{width} must be positive multiples of {mult} "
                          f"for a depth-{config.depth} U-Net")


def sample_input(config: GeneratorConfig, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A reproducible label map of blocks of palette classes, encoded: (1, C, H, W) (a
    "labels+photo" generator's input with no photo: everything is the hole)."""
    rng = np.random.default_rng(seed)
    blocks = rng.choice(PALETTE_IDS, size=(max(1, height // 8), max(1, width // 8)))
    ids = np.kron(blocks, np.ones((8, 8), np.uint8))
    ids = np.pad(ids, ((0, height - ids.shape[0]), (0, width - ids.shape[1])), mode="edge")
    return encode_input(ids.astype(np.uint8), config).unsqueeze(0)  # photo-edit: all-hole


def export_onnx_bytes(model: nn.Module, example: torch.Tensor, *, opset: int = OPSET,
                      dynamic: bool = True) -> bytes:
    """Trace `model` (eval mode, CPU) on `example` and return the ONNX graph."""
    model = model.eval()
    buf = io.BytesIO()
    axes = {INPUT_NAME: {0: "batch", 2: "height", 3: "width"},
            OUTPUT_NAME: {0: "batch", 2: "height", 3: "width"}} if dynamic else None
    with warnings.catch_warnings():
        # The TorchScript exporter announces its own deprecation (and that of helpers it calls);
        # the export itself is verified numerically below, which is what matters here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        # InstanceNorm checks its channel count in Python; that is a constant of the model, so
        # the tracer's "treated as a constant" warning is harmless here.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # torch documents file-like objects for `f`; its annotation names paths only
        torch.onnx.export(model, (example,), buf, dynamo=False, opset_version=opset,  # type: ignore[arg-type]
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes=axes, do_constant_folding=True)
    return buf.getvalue()


def ort_session(model_path_or_bytes: str | Path | bytes, threads: int | None = None) -> Any:
    _, ort = require_onnx()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: the CLI stays quiet
    if threads:
        options.intra_op_num_threads = threads
    if not spinning_allowed():
        # Like OpenMP under OMP_WAIT_POLICY=PASSIVE (core/threads.py): ONNX Runtime's own pool
        # spins between ops by default, which on a busy machine takes the cores other work needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = str(model_path_or_bytes) if isinstance(model_path_or_bytes, Path) else model_path_or_bytes
    return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])


def max_abs_diff_ort(session: Any, model: nn.Module, x: torch.Tensor) -> float:
    got = session.run(None, {INPUT_NAME: x.numpy()})[0]
    with torch.inference_mode():
        expected = model(x).numpy()
    if got.shape != expected.shape:
        return float("inf")
    return float(np.abs(got - expected).max())


def export_onnx(loaded: LoadedGenerator, out_path: str | Path, height: int = 256, width: int = 256,
                *, opset: int = OPSET, tolerance: float = TOLERANCE) -> OnnxExportReport:
    """Export `loaded` to `out_path` (atomic), verified with ONNX Runtime at height×width."""
    onnx, _ = require_onnx()
    check_export_size(loaded.config, height, width)
    out_path = Path(out_path)
    start = time.perf_counter()
    model = loaded.model.to("cpu").eval()
    x = sample_input(loaded.config, height, width)
    graph = onnx.load_from_string(export_onnx_bytes(model, x, opset=opset))
    onnx.helper.set_model_props(graph, {
        "roadstudio.generator": json.dumps(to_dict(loaded.config)),
        "roadstudio.card": json.dumps(loaded.card or {}, default=str),
        "roadstudio.input": "label encoding (N, C, H, W) float32"
                            + (" + masked photo (3) + hole mask (1)" if loaded.config.photo_conditioned else "")
                            + f"; H, W multiples of {loaded.config.size_multiple}",
        "roadstudio.output": "photo (N, 3, H, W) float32 in [-1, 1]",
    })
    onnx.checker.check_model(graph)
    with atomic_path(out_path) as tmp:
        onnx.save_model(graph, str(tmp))
        diff = max_abs_diff_ort(ort_session(tmp), model, x)
        if not diff <= tolerance:
            raise OnnxExportError(f"{out_path}: ONNX Runtime output differs from torch by {diff:.3g} "
                                  f"(limit {tolerance:g}); the file was not written")
        size = tmp.stat().st_size
    return OnnxExportReport(path=out_path, height=height, width=width, opset=opset,
                            max_abs_diff=diff, seconds=time.perf_counter() - start, size_bytes=size)
