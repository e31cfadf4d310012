"""The critic overlay in the window: A's run discriminator scores A's image off the GUI thread,
the map follows each stroke, the opacity slider blends it, and a generator without a saved
discriminator says why."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from core.eval.critic import load_critic
from core.weights.checkpoints import save_weights
from core.render.infer import Predictor
from core.labels import class_by_name
from core.models import build_generator
from core.eval.critic import CriticMap
from desktop.preview.worker import ModelSource
from tests.core.test_critic import GEN, _run
from tests.desktop.test_compare import WAIT, _wait_shown, _window

CAR = class_by_name("car").id


def _wait_critic_map(qtbot, window) -> CriticMap:
    controller = window.compare.controller
    qtbot.waitUntil(lambda: (s := controller.shown("A")) is not None and s.critic_map is not None
                    and np.array_equal(s.ids, window.session.document.ids), timeout=WAIT)
    shown = controller.shown("A")
    assert shown is not None and isinstance(shown.critic_map, CriticMap)
    return shown.critic_map


def test_critic_overlay_follows_strokes_and_blends(make_window, qtbot, mouse_for, tmp_path) -> None:
    from core.config import DiscriminatorConfig

    weights = _run(tmp_path, DiscriminatorConfig(ndf=4, n_layers=1))
    window = _window(make_window, qtbot)
    window.compare.show_compare(ModelSource(path=weights), None, "critic")
    panel = window.compare.panel
    assert panel.opacity_slider.isVisible() and panel.mode_buttons["critic"].isChecked()
    shown = _wait_critic_map(qtbot, window)
    critic, _ = load_critic(weights)
    assert critic is not None
    ids = np.array(window.session.document.ids)
    image = Predictor.from_path(weights, "cpu", backend="eager").predict(ids)
    np.testing.assert_allclose(shown.probability, critic.score(ids, image).probability, atol=1e-6)
    before = shown.probability

    window.canvas.set_current_class(CAR)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)
    mouse_for(window.canvas).drag([(20, 60), (120, 70), (200, 80)])
    after = _wait_critic_map(qtbot, window).probability
    assert not np.array_equal(before, after)  # recomputed for the new painting

    panel.opacity_slider.setValue(100)  # full overlay: exported pixels are the colour map itself
    pixels, record = panel.export_image()
    from desktop.compare.heatmap import critic_colors

    np.testing.assert_array_equal(pixels, critic_colors(after))
    assert record.layout == "A under its discriminator's P(real)"


def test_a_generator_without_discriminator_says_why(make_window, qtbot, tmp_path) -> None:
    lone = save_weights(tmp_path / "best.safetensors", build_generator(GEN), GEN)
    window = _window(make_window, qtbot)
    window.compare.show_compare(ModelSource(path=lone), None, "critic")
    controller = window.compare.controller
    qtbot.waitUntil(lambda: (s := controller.shown("A")) is not None and bool(s.critic_note), timeout=WAIT)
    assert "no discriminator" in controller.shown("A").critic_note
    _wait_shown(qtbot, window, "A", lone)
    qtbot.mouseClick(window.compare.panel.mode_buttons["side"], Qt.MouseButton.LeftButton)
    assert not window.compare.panel.opacity_slider.isVisible()
