"""The class table, palette and id/colour/train-id conversions users' label maps go through."""

from __future__ import annotations

import numpy as np
import pytest
from torchvision.datasets import Cityscapes

from core import labels
from core.models.encoding import encode_labels


def test_palette_is_unlabeled_plus_the_19_evaluated_classes_in_train_id_order() -> None:
    assert labels.NUM_PALETTE_CLASSES == 20
    assert labels.PALETTE[0].name == "unlabeled"
    assert [c.train_id for c in labels.PALETTE[1:]] == list(range(19))
    names = [c.name for c in labels.PALETTE]
    for expected in ("road", "sidewalk", "building", "car", "vegetation", "sky", "person"):
        assert expected in names


def test_table_comes_from_torchvision() -> None:
    tv = {c.id: c for c in Cityscapes.classes if c.id >= 0}
    for c in labels.ALL_CLASSES:
        assert tv[c.id].name == c.name
        assert tuple(tv[c.id].color) == c.color
        assert tv[c.id].train_id == c.train_id
    assert labels.class_by_name("road").id == 7
    assert labels.class_by_id(26).name == "car"


def test_ids_to_color_and_back_is_exact_on_the_palette() -> None:
    rng = np.random.default_rng(0)
    ids = rng.choice(labels.PALETTE_IDS, size=(37, 53)).astype(np.uint8)
    rgb = labels.ids_to_color(ids)
    assert rgb.shape == (37, 53, 3) and rgb.dtype == np.uint8
    snap = labels.color_to_ids(rgb)
    assert np.array_equal(snap.ids, ids)
    assert snap.snapped == 0 and snap.total == 37 * 53


def test_color_to_ids_snaps_noisy_colours_and_counts_them() -> None:
    rng = np.random.default_rng(1)
    ids = rng.choice(labels.PALETTE_IDS, size=(20, 30)).astype(np.uint8)
    rgb = labels.ids_to_color(ids).astype(np.int16)
    noise = rng.integers(-6, 7, size=rgb.shape)
    noise[:10] = 0  # the top half stays exact
    noisy = np.clip(rgb + noise, 0, 255).astype(np.uint8)
    snap = labels.color_to_ids(noisy)
    assert np.array_equal(snap.ids, ids)
    changed = int(np.any(noisy != labels.ids_to_color(ids), axis=2).sum())
    assert snap.snapped == changed > 0
    assert snap.snapped_share == pytest.approx(changed / (20 * 30))


def test_color_to_ids_rejects_non_rgb() -> None:
    with pytest.raises(ValueError, match="H×W×3"):
        labels.color_to_ids(np.zeros((4, 4), np.uint8))


def test_train_ids_round_trip_and_ignore() -> None:
    ids = labels.PALETTE_IDS.reshape(4, 5)
    train = labels.ids_to_train_ids(ids)
    assert train[0, 0] == labels.IGNORE_TRAIN_ID  # unlabeled
    assert list(train.ravel()[1:]) == list(range(19))
    assert np.array_equal(labels.train_ids_to_ids(train), ids)
    # classes outside the palette (e.g. "ground", id 6) are ignored in training
    assert labels.ids_to_train_ids(np.array([6], np.uint8))[0] == labels.IGNORE_TRAIN_ID


def test_invalid_ids_lists_values_that_are_not_label_ids() -> None:
    ids = np.array([[0, 7, 34], [200, 26, 7]], np.uint8)
    assert list(labels.invalid_ids(ids)) == [34, 200]


def test_onehot_encoding_one_channel_per_palette_class() -> None:
    ids = labels.PALETTE_IDS.reshape(4, 5)
    x = encode_labels(ids, "onehot")
    assert x.shape == (20, 4, 5)
    assert set(x.unique().tolist()) == {0.0, 1.0}
    assert x.sum(0).eq(1).all()
    # palette class k lights channel k
    assert [int(x[:, i // 5, i % 5].argmax()) for i in range(20)] == list(range(20))
    # ids outside the palette count as unlabeled
    assert encode_labels(np.array([[6, 255]], np.uint8), "onehot")[0].eq(1).all()


def test_color_encoding_is_palette_rgb_in_minus_one_to_one() -> None:
    ids = np.array([[7, 0], [23, 26]], np.uint8)
    x = encode_labels(ids, "color")
    assert x.shape == (3, 2, 2)
    road = np.array(labels.class_by_id(7).color) / 127.5 - 1.0
    assert np.allclose(x[:, 0, 0].numpy(), road, atol=1e-6)
    assert x[:, 0, 1].eq(-1).all()  # black unlabeled
    assert x.min() >= -1 and x.max() <= 1
    batched = encode_labels(np.stack([ids, ids]), "color")
    assert batched.shape == (2, 3, 2, 2)


def test_table_read_from_torchvision_source_equals_importing_it() -> None:
    # core.labels parses torchvision's cityscapes.py instead of importing torchvision (seconds of
    # start-up); the parsed table must be exactly Cityscapes.classes.
    parsed = labels._torchvision_table_from_source()
    assert parsed is not None
    imported = [labels.LabelClass(c.name, c.id, c.train_id, c.category, tuple(c.color)) for c in Cityscapes.classes]
    assert parsed == imported


def test_importing_the_label_table_does_not_import_torchvision() -> None:
    import subprocess
    import sys

    code = "import sys, core.labels; print('torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
