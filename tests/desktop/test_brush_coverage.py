"""Brushes that tell the truth (issue 18 §5): the class list hatches the brushes the loaded model
barely saw in training, with the measured share in the tooltip; the model card and the compare
view say the same. Real widgets, real tiny checkpoints loaded by the real workers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.weights.checkpoints import save_weights
from core.weights.class_coverage import BARELY_SEEN_SHARE, barely_seen, format_share, summary
from core.config import GeneratorConfig
from core.labels import PALETTE, class_by_name
from core.models import build_generator
from desktop.window.model_menu import card_rows
from desktop.window.palette import ClassPalette
from desktop.preview.worker import ModelInfo, ModelSource
from tests.desktop.app_helpers import scene_ids

CFG = GeneratorConfig(depth=3, ngf=4)
WAIT = 60_000


def _shares(**rare: float) -> dict[str, float]:
    """A card's class_pixel_share: every class well seen except the ones given."""
    names = [c.name for c in PALETTE]
    common = (1.0 - sum(rare.values())) / (len(names) - len(rare))
    return {n: rare.get(n.replace(" ", "_"), common) for n in names}


def _checkpoint(path: Path, card: dict) -> Path:
    torch.manual_seed(0)
    return save_weights(path, build_generator(CFG), CFG, card=card)


def test_barely_seen_classes_come_from_the_card() -> None:
    card = {"class_pixel_share": _shares(bus=0.0001, train=0.0, wall=0.004)}
    assert barely_seen(card) == {"bus": pytest.approx(0.0001), "train": 0.0}
    assert barely_seen({"step": 3}) == {} and barely_seen(None) == {}
    assert "bus (0.01 %)" in summary(card) and "train (0 %)" in summary(card)
    assert "not recorded" in summary({"step": 3})
    assert format_share(0.25) == "25 %" and format_share(0.004) == "0.4 %" and BARELY_SEEN_SHARE == 1e-3


def _swatch_pixels(palette: ClassPalette, name: str) -> np.ndarray:
    image = palette.button_for(class_by_name(name).id).grab().toImage()
    h = image.height()
    return np.array([[image.pixelColor(x, y).rgb() for x in range(8, 8 + h - 10)] for y in range(5, h - 5)])


def test_palette_hatches_and_explains_barely_seen_brushes(qtbot) -> None:
    palette = ClassPalette()
    qtbot.addWidget(palette)
    palette.show()
    plain_bus = _swatch_pixels(palette, "bus")
    palette.set_model_card({"class_pixel_share": _shares(bus=0.0001)})
    assert palette.barely_seen() == {"bus": pytest.approx(0.0001)}
    bus = palette.button_for(class_by_name("bus").id)
    assert "saw 0.01 % bus pixels in training: expect a rough rendering" in bus.toolTip()
    assert "expect" not in palette.button_for(class_by_name("road").id).toolTip()
    assert not np.array_equal(_swatch_pixels(palette, "bus"), plain_bus)  # hatched swatch
    palette.set_model_card({"step": 1})  # a model that records nothing: no marks (unknown ≠ rare)
    assert palette.barely_seen() == {} and "expect" not in bus.toolTip()
    assert np.array_equal(_swatch_pixels(palette, "bus"), plain_bus)


def test_model_card_lists_the_shares_and_the_barely_seen_brushes(tmp_path: Path) -> None:
    info = ModelInfo(path=tmp_path / "m.safetensors", name="m", config=CFG, parameters=10, device="cpu",
                     sha256="0" * 64, card={"class_pixel_share": _shares(truck=0.0002)})
    rows = dict(card_rows(info))
    assert "truck (0.02 %)" in rows["Brushes"]
    assert "truck 0.02 %" in rows["Class pixel share"]


def test_window_marks_the_brushes_of_the_loaded_model_and_compare_says_so(make_window, qtbot, tmp_path) -> None:
    rare = _checkpoint(tmp_path / "rare.safetensors", {"class_pixel_share": _shares(bus=0.00005, train=0.0)})
    old = _checkpoint(tmp_path / "old.safetensors", {"step": 5})
    window = make_window()
    window.session.load_ids(scene_ids(32, 64), None)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.preview.model_loaded, timeout=WAIT):
        window.load_model(ModelSource(path=rare))
    assert set(window.class_palette.barely_seen()) == {"bus", "train"}
    window.compare.show_compare(ModelSource(path=rare), ModelSource(path=old), "side")
    panel = window.compare.panel
    qtbot.waitUntil(lambda: "bus (0.005 %)" in panel.coverage.text() and "not recorded" in panel.coverage.text(),
                    timeout=WAIT)
    with qtbot.waitSignal(window.preview.model_loaded, timeout=WAIT):
        window.load_model(ModelSource(path=old))
    assert window.class_palette.barely_seen() == {}
