"""Exports from the window carry provenance: paint with real mouse events, export the output and
the side-by-side through the File menu actions, then re-render the recorded label map with the
recorded checkpoint and seed: bit-identical."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QFileDialog

from core.render import provenance
from core.weights.checkpoints import save_weights
from core.config import GeneratorConfig
from core.io.imageio import read_rgb
from core.render.infer import Predictor
from core.labels import class_by_name
from core.models import build_generator
from desktop.preview.worker import ModelSource
from tests.desktop.app_helpers import scene_ids

CAR = class_by_name("car").id


@pytest.fixture
def dropout_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    cfg = GeneratorConfig(depth=6, ngf=4)  # depth 6 has a dropout layer: the seed matters
    return save_weights(tmp_path / "drop.safetensors", build_generator(cfg), cfg, card={"step": 40})


@pytest.mark.parametrize("variation", [None, 5])
def test_exported_images_reproduce_from_their_provenance(make_window, qtbot, mouse_for, monkeypatch, tmp_path,
                                                        dropout_checkpoint, variation):
    window = make_window()
    window.session.load_ids(scene_ids(64, 128), None)
    window.resize(900, 500)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.preview.model_loaded, timeout=30_000):
        window.load_model(ModelSource(path=dropout_checkpoint))
    if variation is not None:
        window.tool_bar.seed.setValue(variation)  # the Variation spin box, as a user sets it
    window.canvas.set_current_class(CAR)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)
    with qtbot.waitSignal(window.preview_displayed, timeout=30_000,
                          check_params_cb=lambda v: v == window.session.document.version):
        mouse_for(window.canvas).drag([(40, 100), (90, 110), (140, 120)])
    qtbot.waitUntil(lambda: window.preview.last_shown is not None
                    and window.preview.last_shown.variation == variation, timeout=30_000)

    for action, name in ((window.actions_.export_output, "out.png"), (window.actions_.export_side, "side.png")):
        target = tmp_path / name
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, _t=target, **k: (str(_t), ""))
        with qtbot.waitSignal(window.session.saved, timeout=10_000):
            action.trigger()

    doc_ids = np.array(window.session.document.ids)
    for name in ("out.png", "side.png"):
        record = provenance.read(tmp_path / name)
        assert record.get("checkpoint_sha256") == provenance.file_sha256(dropout_checkpoint)
        assert record.get("checkpoint_step") == "40" and record.get("device") == "cpu"
        assert record.variation == variation
        np.testing.assert_array_equal(record.labels, doc_ids)
        assert record.labels is not None
        again = Predictor.from_path(dropout_checkpoint, "cpu", backend="eager").predict(
            record.labels, variation=record.variation)
        np.testing.assert_array_equal(provenance.rendered_part(record, read_rgb(tmp_path / name)), again)
