"""A/B compare in the window: two real tiny generators, each in its own worker; side / swipe /
difference views driven with real clicks and drags; the step scrubber over a run's checkpoints
with its render cache; latest-wins while a worker is busy (the GUI thread never waits)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from core.weights.checkpoints import save_weights
from core.config import GeneratorConfig
from core.io.imageio import read_rgb
from core.render.infer import Predictor
from core.labels import class_by_name
from core.models import build_generator
from desktop.compare.worker import CompareWorker
from desktop.preview.worker import ModelSource
from tests.desktop.app_helpers import scene_ids

CFG = GeneratorConfig(depth=3, ngf=4)
CAR = class_by_name("car").id
WAIT = 60_000


def _weights(path: Path, seed: int, step: int) -> Path:
    torch.manual_seed(seed)
    return save_weights(path, build_generator(CFG), CFG, card={"step": step})


@pytest.fixture
def two_models(tmp_path: Path) -> tuple[Path, Path]:
    return _weights(tmp_path / "a.safetensors", 0, 100), _weights(tmp_path / "b.safetensors", 1, 200)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder as the engine leaves it: step checkpoints 10, 20, 30 (different weights)."""
    run = tmp_path / "runs" / "demo"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.toml").write_text("# test\n")
    for seed, step in enumerate((10, 20, 30)):
        _weights(run / "checkpoints" / f"step_{step:07d}.safetensors", seed + 5, step)
    return run


def _predict(path: Path, ids: np.ndarray) -> np.ndarray:
    return Predictor.from_path(path, "cpu", backend="eager").predict(ids)


def _window(make_window, qtbot):
    window = make_window()
    window.session.load_ids(scene_ids(32, 64), None)
    window.resize(1200, 600)
    window.show()
    qtbot.waitExposed(window)
    return window


def _wait_shown(qtbot, window, side: str, path: Path) -> None:
    qtbot.waitUntil(lambda: (s := window.compare.controller.shown(side)) is not None
                    and s.source.path == path and s.ids.shape == window.session.document.shape
                    and np.array_equal(s.ids, window.session.document.ids), timeout=WAIT)


def test_side_swipe_and_difference_of_two_generators(make_window, qtbot, mouse_for, two_models) -> None:
    a, b = two_models
    window = _window(make_window, qtbot)
    window.compare.show_compare(ModelSource(path=a), ModelSource(path=b), "side")
    panel = window.compare.panel
    assert window.compare.stack.currentWidget() is panel and window.compare.action.isChecked()
    _wait_shown(qtbot, window, "A", a)
    _wait_shown(qtbot, window, "B", b)
    ids = np.array(window.session.document.ids)
    np.testing.assert_array_equal(panel.view.image("A"), _predict(a, ids))
    np.testing.assert_array_equal(panel.view.image("B"), _predict(b, ids))

    qtbot.mouseClick(panel.mode_buttons["diff"], Qt.MouseButton.LeftButton)
    assert panel.view.mode() == "diff"
    qtbot.waitUntil(lambda: panel.view.difference() is not None, timeout=WAIT)  # made off the GUI thread
    largest, mean = panel.view.difference()
    expected = np.abs(_predict(a, ids).astype(int) - _predict(b, ids).astype(int))
    assert largest == int((expected.sum(axis=2) // 3).max()) and mean == pytest.approx(expected.mean())

    qtbot.mouseClick(panel.mode_buttons["swipe"], Qt.MouseButton.LeftButton)
    rect = panel.view.image_rect()
    y = rect.center().y()
    mouse_for(panel.view).drag([(rect.center().x(), y), (rect.left() + 0.2 * rect.width(), y)])
    assert panel.view.swipe_position() == pytest.approx(0.2, abs=0.02)

    # The same generator on both sides: no difference at all.
    panel.set_source("B", ModelSource(path=a))
    _wait_shown(qtbot, window, "B", a)
    qtbot.mouseClick(panel.mode_buttons["diff"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.view.difference() is not None, timeout=WAIT)
    assert panel.view.difference()[0] == 0


def test_a_stroke_re_renders_both_sides(make_window, qtbot, mouse_for, two_models) -> None:
    a, b = two_models
    window = _window(make_window, qtbot)
    window.compare.show_compare(ModelSource(path=a), ModelSource(path=b))
    _wait_shown(qtbot, window, "B", b)
    window.canvas.set_current_class(CAR)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)
    mouse_for(window.canvas).drag([(20, 60), (80, 70), (140, 80)])
    _wait_shown(qtbot, window, "A", a)
    _wait_shown(qtbot, window, "B", b)
    ids = np.array(window.session.document.ids)
    assert (ids == CAR).any()
    np.testing.assert_array_equal(window.compare.panel.view.image("B"), _predict(b, ids))


def test_the_step_scrubber_renders_each_step_and_caches_it(make_window, qtbot, run_dir) -> None:
    window = _window(make_window, qtbot)
    window.compare.set_active(True)
    panel = window.compare.panel
    with qtbot.waitSignal(panel.run_loaded, timeout=WAIT):
        panel.set_run(run_dir)
    steps = [run_dir / "checkpoints" / f"step_{s:07d}.safetensors" for s in (10, 20, 30)]
    slider = panel.step_slider
    assert slider.maximum() == 2 and slider.value() == 2  # starts at the newest checkpoint
    _wait_shown(qtbot, window, "A", steps[2])
    ids = np.array(window.session.document.ids)
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Left)  # step 20, as a user moves the slider
    assert panel.step_label.text().startswith("step 20")
    _wait_shown(qtbot, window, "A", steps[1])
    np.testing.assert_array_equal(panel.view.image("A"), _predict(steps[1], ids))
    sent = window.compare.controller.requests_sent["A"]
    qtbot.keyClick(slider, Qt.Key.Key_Right)  # back to step 30: from the cache, no new render
    shown = window.compare.controller.shown("A")
    assert shown.source.path == steps[2] and shown.cached
    assert window.compare.controller.requests_sent["A"] == sent
    np.testing.assert_array_equal(panel.view.image("A"), _predict(steps[2], ids))


def test_scrubbing_while_the_worker_is_busy_sends_only_the_latest(make_window, qtbot, run_dir, monkeypatch) -> None:
    gate = threading.Event()
    entered = threading.Event()
    threads: list[bool] = []
    real_model = CompareWorker._model

    def slow_model(self, source):
        threads.append(threading.current_thread() is threading.main_thread())
        entered.set()
        gate.wait(WAIT / 1000)  # the worker is stuck; the GUI thread must not be
        return real_model(self, source)

    monkeypatch.setattr(CompareWorker, "_model", slow_model)
    window = _window(make_window, qtbot)
    window.compare.set_active(True)
    panel = window.compare.panel
    controller = window.compare.controller
    with qtbot.waitSignal(panel.run_loaded, timeout=WAIT):
        panel.set_run(run_dir)
    qtbot.waitUntil(entered.is_set, timeout=WAIT)  # step 30 is in flight and blocked
    first = controller.requests_sent["A"]
    slider = panel.step_slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Left)  # 20
    qtbot.keyClick(slider, Qt.Key.Key_Left)  # 10
    qtbot.keyClick(slider, Qt.Key.Key_Right)  # 20 again: the only wish that counts
    assert controller.requests_sent["A"] == first  # nothing queued behind the busy worker
    assert panel.step_label.text().startswith("step 20")
    gate.set()
    target = run_dir / "checkpoints" / "step_0000020.safetensors"
    _wait_shown(qtbot, window, "A", target)
    assert controller.requests_sent["A"] == first + 1  # the stale 10 was never rendered
    assert threads and not any(threads)  # every render ran on the worker thread, none on the GUI thread


def test_a_bad_file_for_b_is_a_message_not_a_crash(make_window, qtbot, two_models, tmp_path) -> None:
    a, _ = two_models
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a checkpoint")
    window = _window(make_window, qtbot)
    panel = window.compare.panel
    with qtbot.waitSignal(window.compare.controller.failed, timeout=WAIT) as failed:
        window.compare.show_compare(ModelSource(path=a), ModelSource(path=broken))
    assert failed.args[0] == "B" and "broken.safetensors" in failed.args[1]
    assert "Traceback" not in panel.status.text() and "broken.safetensors" in panel.status.text()
    _wait_shown(qtbot, window, "A", a)


def test_compare_screenshot_from_the_command_line(qtbot, isolated_home, two_models, tmp_path) -> None:
    from core.render import provenance
    from desktop import app, messages
    from desktop.scene import files
    from desktop.screenshot import run_screenshot

    a, b = two_models
    scene = files.save_label_map(tmp_path / "scene.png", scene_ids(64, 128), "ids")
    out = tmp_path / "diff.png"
    try:
        assert run_screenshot(open_path=scene, checkpoint=a, view="diff", out=out, device="cpu", compare=b) == 0
    finally:
        messages.set_error_sink(None)
    record = provenance.read(out)
    assert record.get("kind") == "screenshot" and record.get("checkpoint_name") == "a.safetensors"
    shot = read_rgb(out)
    assert shot.shape[0] >= 400 and shot.shape[1] >= 800
    # Bad combinations are refused before any window opens.
    assert app.main(["--open", str(scene), "--view", "diff", "--screenshot", str(out)]) == 2
    assert app.main(["--open", str(scene), "--compare", str(b), "--view", "overlay", "--screenshot", str(out)]) == 2


def test_export_writes_the_view_with_both_models_in_its_provenance(make_window, qtbot, monkeypatch, two_models,
                                                                  tmp_path) -> None:
    from PySide6.QtWidgets import QFileDialog

    from core.render import provenance

    a, b = two_models
    window = _window(make_window, qtbot)
    window.compare.show_compare(ModelSource(path=a), ModelSource(path=b), "side")
    _wait_shown(qtbot, window, "A", a)
    _wait_shown(qtbot, window, "B", b)
    panel = window.compare.panel
    out = tmp_path / "ab.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kw: (str(out), ""))
    with qtbot.waitSignal(panel.exported, timeout=WAIT):
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    ids = np.array(window.session.document.ids)
    np.testing.assert_array_equal(read_rgb(out), np.concatenate([_predict(a, ids), _predict(b, ids)], axis=1))
    record = provenance.read(out)
    assert record.get("kind") == "compare" and record.get("layout") == "A | B"
    assert record.get("checkpoint_sha256") == provenance.file_sha256(a)
    assert record.get("compare_checkpoint_sha256") == provenance.file_sha256(b)
    np.testing.assert_array_equal(record.labels, ids)
