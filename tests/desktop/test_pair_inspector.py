"""Inspect a training pair: pair N of a real (tiny) aligned dataset opens in the canvas with its
photo under the model's output, in the same view mode; painting never touches the dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.check import split_sources
from core.data.detect import detect_layout
from core.labels import ID_TO_COLOR, class_by_name
from desktop.preview.worker import ModelSource
from tests.core.train_helpers import tiny_pairs

CAR = class_by_name("car").id


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "streets"
    (root / "train").mkdir(parents=True)
    for i, (ids, photo) in enumerate(tiny_pairs(4, size=64)):
        Image.fromarray(np.concatenate([photo, ID_TO_COLOR[ids]], axis=1)).save(root / "train" / f"{i}.png")
    return root


def test_a_pair_opens_with_its_photo_beside_the_output(make_window, qtbot, mouse_for, dataset,
                                                       tiny_checkpoint) -> None:
    window = make_window()
    window.resize(1100, 700)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.preview.model_loaded, timeout=30_000):
        window.load_model(ModelSource(path=tiny_checkpoint))
    before = {p: p.read_bytes() for p in (dataset / "train").iterdir()}
    with qtbot.waitSignal(window.pair_inspector.opened, timeout=30_000) as opened:
        window.pair_inspector.open(str(dataset), "train", 2, "BtoA")
    pair = opened.args[0]
    expected_ids, expected_photo = split_sources(detect_layout(dataset), "BtoA")["train"][2]
    np.testing.assert_array_equal(window.session.document.ids, expected_ids)
    panel = window.preview_panel
    assert panel.target_view.isVisible() and "pair 2 of 4 in train" in panel.target_caption.text()
    assert pair.where.endswith("2.png")
    window.set_view_mode("overlay")  # the same view for the photo
    assert panel.target_view.mode() == "overlay" and panel.target_view.labels_array() is not None
    window.set_view_mode("swipe")
    panel.view.set_swipe_position(0.3)
    assert panel.target_view.swipe_position() == pytest.approx(0.3)

    window.canvas.set_current_class(CAR)
    window.canvas.set_view_transform(4.0, 0.0, 0.0)
    mouse_for(window.canvas).drag([(20, 20), (60, 40)])
    assert (np.asarray(window.session.document.ids) == CAR).sum() > (expected_ids == CAR).sum()
    assert window.session.path is None  # Save asks for a new file
    assert {p: p.read_bytes() for p in (dataset / "train").iterdir()} == before  # the dataset is untouched
    assert panel.target_view.has_output()  # still the pair's scene: the photo stays

    window.session.new_scene(32, 64)  # another scene: the photo goes
    assert not panel.target_view.isVisible()


def test_a_missing_pair_is_a_message(make_window, qtbot, dataset, error_boxes) -> None:
    window = make_window()
    with qtbot.waitSignal(window.pair_inspector.failed, timeout=30_000) as failed:
        window.pair_inspector.open(str(dataset), "train", 9, "BtoA")
    assert "there is no pair 9" in failed.args[0] and error_boxes and "Traceback" not in error_boxes[0][1]
