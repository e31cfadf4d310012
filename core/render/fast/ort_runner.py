"""ONNX Runtime backend: the generator exported once (dynamic batch/height/width), cached on
disk, run by ONNX Runtime's CPU execution provider. Any canvas size, no per-shape builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.io.atomic import atomic_path
from core.config import GeneratorConfig
from core.render.fast.cache import artifact_key
from core.weights.onnx_export import INPUT_NAME, OPSET, export_onnx_bytes, ort_session, require_onnx

#: Bumped when the exported graph of the same weights changes (2: class tables fed by a stride-2
#: label pyramid, core.models.unet), so a cached graph from an older Road Studio is exported again.
GRAPH_VERSION = 2


class OrtRunner:
    name = "onnxruntime"

    def __init__(self, session: object, path: Path) -> None:
        self._session = session
        self.path = path

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) float32 CPU tensor -> (N, 3, H, W) float32 tensor."""
        arr = np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())
        out = self._session.run(None, {INPUT_NAME: arr})[0]  # type: ignore[attr-defined]
        return torch.from_numpy(out)


def build_ort_runner(model: nn.Module, config: GeneratorConfig, digest: str, cache_dir: Path,
                     threads: int | None = None) -> OrtRunner:
    """Load the cached ONNX graph for these weights, or export it (a few seconds) and cache it."""
    require_onnx()
    key = artifact_key(digest, config, "onnxruntime", {"opset": OPSET, "graph": GRAPH_VERSION})
    path = Path(cache_dir) / f"ort-{key}.onnx"
    if not path.is_file():
        mult = config.size_multiple
        example = torch.zeros(1, config.input_nc, mult, mult)
        example[:, 0] = 1.0
        data = export_onnx_bytes(model.to("cpu").eval(), example)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    session = ort_session(path, threads=threads or torch.get_num_threads())
    return OrtRunner(session, path)
