"""Synthetic street scenes: deterministic per (seed, index), valid Cityscapes ids, the classes a
street has, a photo that is not flat colour and that matches its label map, and variety."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.synthetic import SyntheticStreets, generate_pair
from core.labels import ID_IS_VALID, class_by_name

EGO_VEHICLE, ROAD, SIDEWALK, BUILDING, SKY, CAR = 1, 7, 8, 11, 23, 26


def test_deterministic_per_seed_and_index() -> None:
    a_labels, a_photo = generate_pair(3, 17, (64, 128))
    b_labels, b_photo = generate_pair(3, 17, (64, 128))
    np.testing.assert_array_equal(a_labels, b_labels)
    np.testing.assert_array_equal(a_photo, b_photo)
    assert not np.array_equal(generate_pair(3, 18, (64, 128))[0], a_labels)
    assert not np.array_equal(generate_pair(4, 17, (64, 128))[0], a_labels)
    # Order of generation does not matter (no hidden state between calls).
    source = SyntheticStreets(20, seed=3, size=(64, 128))
    np.testing.assert_array_equal(source[17][1], a_photo)


def test_labels_are_valid_ids_and_streets_have_street_classes() -> None:
    seen: set[int] = set()
    for index in range(24):
        labels, photo = generate_pair(0, index, (128, 256))
        assert labels.dtype == np.uint8 and labels.shape == (128, 256)
        assert photo.dtype == np.uint8 and photo.shape == (128, 256, 3)
        assert ID_IS_VALID[labels].all()
        present = set(np.unique(labels).tolist())
        assert ROAD in present
        # The road runs down to the bottom edge (or to the recording car's bonnet, "ego vehicle"),
        # and the sky is above it.
        rows_with_road = np.nonzero((labels == ROAD).any(axis=1))[0]
        bottom = labels[-1]
        assert rows_with_road.max() == 127 or (bottom == EGO_VEHICLE).mean() > 0.5
        if SKY in present:
            assert np.nonzero((labels == SKY).any(axis=1))[0].min() < rows_with_road.min()
        seen |= present
    wanted = {"road", "sidewalk", "building", "vegetation", "terrain", "sky", "pole", "traffic sign",
              "traffic light", "car", "person", "rider", "bicycle", "bus", "truck", "wall", "fence"}
    assert {class_by_name(n).id for n in wanted} <= seen


def test_photo_is_textured_and_follows_the_labels() -> None:
    labels, photo = generate_pair(1, 2, (256, 512))
    for class_id in (ROAD, BUILDING):
        region = photo[labels == class_id].astype(float)
        if len(region) > 500:
            assert region.std(axis=0).mean() > 4  # texture, shading and noise, not flat colour
    road = photo[labels == ROAD].astype(float).mean(axis=0)
    sky = photo[labels == SKY].astype(float).mean(axis=0) if (labels == SKY).any() else None
    assert np.ptp(road) < 40  # asphalt is grey-ish
    if sky is not None:
        assert sky.mean() > road.mean()  # the sky is brighter than the road


def test_variety_of_layouts_and_looks() -> None:
    horizons, brightness, road_share = [], [], []
    for index in range(16):
        labels, photo = generate_pair(5, index, (64, 128))
        road_rows = np.nonzero((labels == ROAD).any(axis=1))[0]
        horizons.append(road_rows.min())
        brightness.append(photo.mean())
        road_share.append((labels == ROAD).mean())
    assert np.ptp(horizons) >= 5  # camera height / pitch varies
    assert np.ptp(brightness) > 20  # time of day varies
    assert np.ptp(road_share) > 0.1  # street width and occupancy vary


@pytest.mark.parametrize("size", [(16, 16), (48, 32), (256, 512), (33, 71)])
def test_any_size(size: tuple[int, int]) -> None:
    labels, photo = generate_pair(0, 0, size)
    assert labels.shape == size and photo.shape == size + (3,)


def test_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 8×8"):
        generate_pair(0, 0, (4, 64))


def test_street_labels_is_the_label_map_of_the_scene() -> None:
    from core.data.synthetic import street_labels

    ids = street_labels(0, height=64, width=128)
    np.testing.assert_array_equal(ids, generate_pair(0, 0, (64, 128))[0])
