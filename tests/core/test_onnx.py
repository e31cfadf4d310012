"""ONNX export reproduces the torch model (ONNX Runtime within 1e-4), at other sizes too."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from core.weights import onnx_export
from core.weights.checkpoints import LoadedGenerator
from core.config import Encoding, GeneratorConfig, Norm
from core.errors import ConfigError
from core.weights.onnx_export import OnnxExportError, export_onnx, ort_session, sample_input
from tests.core.train_helpers import spread_batchnorm_stats

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _loaded(norm: Norm = "batch", encoding: Encoding = "onehot", depth: int = 4) -> LoadedGenerator:
    torch.manual_seed(0)
    cfg = GeneratorConfig(depth=depth, ngf=4, norm=norm, input_encoding=encoding)
    from core.models import build_generator

    model = build_generator(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel() if isinstance(m, nn.Conv2d) else m.weight[:, 0].numel()
                m.weight.normal_(0.0, 1.5 / fan_in**0.5)  # activations of unit scale, as when trained
            if isinstance(m, nn.BatchNorm2d):
                spread_batchnorm_stats(m, 0.3, (0.5, 2.0))
    return LoadedGenerator(model=model.eval(), config=cfg, card={"step": 3}, path=Path("mem"))


@pytest.mark.parametrize("norm, encoding", [("batch", "onehot"), ("instance", "color")])
def test_export_matches_torch_at_the_export_size_and_others(tmp_path: Path, norm: Norm, encoding: Encoding) -> None:
    loaded = _loaded(norm, encoding)
    out = tmp_path / "model.onnx"
    report = export_onnx(loaded, out, 32, 48)
    assert out.is_file() and report.size_bytes == out.stat().st_size
    assert report.max_abs_diff <= 1e-4
    assert report.opset == onnx_export.OPSET
    session = ort_session(out)
    for h, w, seed in [(32, 48, 0), (64, 32, 1), (16, 16, 2)]:
        x = torch.cat([sample_input(loaded.config, h, w, seed), sample_input(loaded.config, h, w, seed + 9)])
        got = session.run(None, {"labels": x.numpy()})[0]
        with torch.no_grad():
            expected = loaded.model(x).numpy()
        assert got.shape == (2, 3, h, w)
        assert np.abs(got - expected).max() <= 1e-4
        assert expected.std() > 0.01
    # the file knows which model it is
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(props["roadstudio.generator"])["norm"] == norm
    assert json.loads(props["roadstudio.card"]) == {"step": 3}


def test_unet_256_layout_exports_with_a_1x1_bottleneck(tmp_path: Path) -> None:
    loaded = _loaded("batch", "color", depth=8)
    report = export_onnx(loaded, tmp_path / "u256.onnx", 256, 256)
    assert report.max_abs_diff <= 1e-4


def test_size_must_fit_the_unet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="multiples of 16"):
        export_onnx(_loaded(), tmp_path / "m.onnx", 30, 48)
    assert not (tmp_path / "m.onnx").exists()


def test_a_mismatch_fails_and_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_export, "max_abs_diff_ort", lambda *a: 0.5)
    with pytest.raises(OnnxExportError, match=r"m\.onnx: ONNX Runtime output differs from torch by 0\.5"):
        export_onnx(_loaded(), tmp_path / "m.onnx", 16, 16)
    assert list(tmp_path.iterdir()) == []


def test_missing_onnx_packages_are_a_clear_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    with pytest.raises(OnnxExportError, match=r"pip install 'roadstudio\[onnx\]'"):
        export_onnx(_loaded(), tmp_path / "m.onnx", 16, 16)
