"""Removing an object from a label map (core.edit.remove): its pixels take the background labels
beside them in their own row, the nearer side winning; whole rows look up and down instead;
objects beside it (bicycles, poles, people, other cars) are never spread into its place."""

from __future__ import annotations

import numpy as np
import pytest

from core.edit.remove import fill_from_surroundings

ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, PERSON, CAR, BICYCLE, POLE = 7, 8, 11, 21, 23, 24, 26, 33, 17


def test_a_parked_car_becomes_the_building_pavement_and_road_beside_it() -> None:
    ids = np.full((60, 100), SKY, np.uint8)
    ids[15:35] = BUILDING
    ids[35:42] = SIDEWALK
    ids[42:] = ROAD
    ids[30:50, 70:90] = CAR
    region = ids == CAR
    out = fill_from_surroundings(ids, region)
    assert np.array_equal(out[~region], ids[~region])  # nothing else moves
    assert (out[30:35, 70:90] == BUILDING).all()
    assert (out[35:42, 70:90] == SIDEWALK).all()
    assert (out[42:50, 70:90] == ROAD).all()
    assert not (out == CAR).any()


def test_the_nearer_side_wins_and_the_image_border_is_not_a_side() -> None:
    ids = np.full((4, 12), ROAD, np.uint8)
    ids[:, 0:3] = SIDEWALK
    ids[:, 3:6] = CAR
    ids[:, 11] = POLE
    region = ids == CAR
    out = fill_from_surroundings(ids, region)
    assert (out[:, 3] == SIDEWALK).all() and (out[:, 4] == SIDEWALK).all()  # tie at column 4 goes left
    assert (out[:, 5] == ROAD).all()
    edge = np.zeros_like(region)
    edge[:, :3] = True  # touching the left border: only the right side is there, a car then road
    assert (fill_from_surroundings(ids, edge)[:, :3] == ROAD).all()


def test_objects_beside_the_region_are_not_spread_into_it() -> None:
    ids = np.full((40, 60), SKY, np.uint8)
    ids[10:25] = VEGETATION
    ids[25:] = ROAD
    ids[15:35, 25:40] = CAR
    ids[15:30, 20:25] = BICYCLE  # parked against the car's left side
    ids[0:35, 41] = POLE  # a pole just right of it
    ids[18:24, 10:20] = PERSON  # further left, in the car's rows
    region = ids == CAR
    out = fill_from_surroundings(ids, region)
    assert np.array_equal(out[~region], ids[~region])
    assert set(np.unique(out[region]).tolist()) == {VEGETATION, ROAD}
    assert (out[15:25, 25:40] == VEGETATION).all() and (out[25:35, 25:40] == ROAD).all()


def test_a_region_surrounded_by_objects_only_takes_them() -> None:
    ids = np.full((6, 9), PERSON, np.uint8)
    ids[:, 6:] = BICYCLE
    ids[2:4, 2:5] = CAR
    out = fill_from_surroundings(ids, ids == CAR)
    assert (out[2:4, 2:4] == PERSON).all() and (out[2:4, 4] == PERSON).all()
    assert not (out == CAR).any()


def test_full_width_rows_take_the_labels_above_and_below() -> None:
    ids = np.full((10, 8), SKY, np.uint8)
    ids[5:] = ROAD
    ids[3:7] = CAR  # a band across the whole width
    out = fill_from_surroundings(ids, ids == CAR)
    assert (out[3:5] == SKY).all() and (out[5:7] == ROAD).all()


def test_nothing_around_or_nothing_chosen_changes_nothing_and_sizes_must_match() -> None:
    ids = np.full((5, 5), CAR, np.uint8)
    assert np.array_equal(fill_from_surroundings(ids, np.ones((5, 5), bool)), ids)
    assert np.array_equal(fill_from_surroundings(ids, np.zeros((5, 5), bool)), ids)
    with pytest.raises(ValueError, match="the region is 4×5"):
        fill_from_surroundings(ids, np.zeros((5, 4), bool))
