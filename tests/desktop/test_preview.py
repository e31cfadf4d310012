"""The live preview: worker thread, latest-wins throttling, stale dropping, model loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.render.infer import Predictor
from desktop.preview.controller import PreviewController
from desktop.preview.views import ComparisonView
from desktop.preview.worker import ModelSource
from tests.desktop.app_helpers import scene_ids


class _Scene:
    """A stand-in document: a version counter and an ids array."""

    def __init__(self, ids: np.ndarray) -> None:
        self.version = 0
        self.ids = ids

    def change(self, label_id: int) -> None:
        self.ids = self.ids.copy()
        self.ids[: 4 + self.version, :8] = label_id
        self.version += 1

    def __call__(self) -> tuple[int, np.ndarray]:
        return self.version, self.ids


@pytest.fixture
def controller(qtbot, tiny_checkpoint: Path):
    scene = _Scene(scene_ids())
    ctrl = PreviewController(scene, device="cpu")
    # Loading a model renders the current scene right away.
    with qtbot.waitSignals([ctrl.model_loaded, ctrl.preview_shown], timeout=30_000, order="strict"):
        ctrl.load_model(ModelSource(path=tiny_checkpoint))
    ctrl.scene = scene  # type: ignore[attr-defined]  # the tests' handle on the scene the fixture made
    yield ctrl
    ctrl.stop()


def test_preview_equals_predictor_output_and_runs_off_the_gui_thread(qtbot, controller, tiny_checkpoint):
    scene = controller.scene
    with qtbot.waitSignal(controller.preview_shown, timeout=30_000) as blocker:
        controller.request()
    version, image, latency = blocker.args
    expected = Predictor.from_path(tiny_checkpoint, device="cpu").predict(scene.ids)
    assert version == scene.version
    assert image.shape == (32, 64, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, expected)
    assert latency > 0
    assert controller._thread.isRunning()
    assert controller._worker.thread() is controller._thread


def test_quick_requests_compute_only_the_first_and_the_newest(qtbot, controller):
    scene = controller.scene
    shown: list[int] = []
    controller.preview_shown.connect(lambda v, img, lat: shown.append(v))
    controller.sent_versions.clear()
    for label in (11, 21, 26, 24):  # four edits while the first request is still in flight
        scene.change(label)
        controller.request()
    assert controller.in_flight
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == scene.version and not controller.in_flight, timeout=30_000)
    # The middle states were never sent to the worker: the pending slot only holds the newest.
    assert controller.sent_versions == [1, 4]
    assert shown == [1, 4]


def test_a_result_older_than_the_shown_one_is_dropped(qtbot, controller):
    shown: list[int] = []
    controller.preview_shown.connect(lambda v, img, lat: shown.append(v))
    image = np.zeros((32, 64, 3), dtype=np.uint8)
    controller._on_worker_preview_ready(5, image, 0.01)
    controller._on_worker_preview_ready(3, image, 0.01)
    controller._on_worker_preview_ready(6, image, 0.01)
    assert shown == [5, 6]


def test_variation_seed_rerolls_and_zero_is_deterministic(qtbot, tmp_path):
    # Dropout sits in the innermost up blocks from depth 6 on; the depth-3 model has none.
    import torch

    from core.weights.checkpoints import save_weights
    from core.config import GeneratorConfig
    from core.models import build_generator

    torch.manual_seed(0)
    cfg = GeneratorConfig(depth=6, ngf=4, norm="instance")
    path = save_weights(tmp_path / "dropout.safetensors", build_generator(cfg), cfg)
    controller = PreviewController(_Scene(scene_ids()), device="cpu")
    images = []
    try:
        with qtbot.waitSignals([controller.model_loaded, controller.preview_shown], timeout=30_000):
            controller.load_model(ModelSource(path=path))
        controller.preview_shown.connect(lambda v, img, lat: images.append(img))
        for seed in (None, 1, 2, None):
            with qtbot.waitSignal(controller.preview_shown, timeout=30_000):
                controller.set_variation(seed)
    finally:
        controller.stop()
    deterministic, seed1, seed2, again = images[-4:]
    np.testing.assert_array_equal(deterministic, again)
    assert not np.array_equal(seed1, seed2)
    assert not np.array_equal(deterministic, seed1)


def test_bad_checkpoint_reports_the_file_and_keeps_the_model(qtbot, controller, tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"this is not a checkpoint")
    old = controller.model
    with qtbot.waitSignal(controller.model_failed, timeout=30_000) as blocker:
        controller.load_model(ModelSource(path=bad))
    assert "broken.safetensors" in blocker.args[0]
    assert controller.model is old
    with qtbot.waitSignal(controller.preview_shown, timeout=30_000):
        controller.request()  # the previous model still renders


def test_stop_joins_the_worker_thread(qtbot, tiny_checkpoint):
    ctrl = PreviewController(_Scene(scene_ids()), device="cpu")
    ctrl.load_model(ModelSource(path=tiny_checkpoint))
    ctrl.request()
    ctrl.stop()
    assert ctrl._thread.isFinished()


def test_swipe_divider_follows_the_mouse(qtbot):
    from PySide6.QtCore import QPoint, Qt

    view = ComparisonView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    view.set_output(np.zeros((32, 64, 3), dtype=np.uint8))
    view.set_labels(scene_ids())
    view.set_mode("swipe")
    rect = view.image_rect()
    x = int(rect.left() + rect.width() * 0.25)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(x, 100))
    assert view.swipe_position() == pytest.approx(0.25, abs=0.01)
