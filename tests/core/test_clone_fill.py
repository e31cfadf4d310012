"""The clone renderer (core.edit.clone): an edited region filled with the photo's own pixels of
each painted class. The photos here code every pixel's position in its colour, so each test can
read back where every filled pixel was copied from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.config import GeneratorConfig
from core.edit import clone
from core.edit.clone import best_offset, clone_fill
from core.edit.editor import CloneRenderer, PhotoEditor
from core.edit.masks import dilate
from core.models import build_generator
from core.render.infer import Predictor
from core.weights.checkpoints import LoadedGenerator

from .train_helpers import BUILDING, CAR, ROAD, SKY, VEGETATION, one_torch_thread

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)

H, W = 96, 192


def _coded_photo() -> np.ndarray:
    """R = row, B = column (both < 256 here): the source of any copied pixel is its colour."""
    ys, xs = np.mgrid[0:H, 0:W]
    return np.stack([ys, np.zeros_like(xs), xs], axis=-1).astype(np.uint8)


def _street() -> np.ndarray:
    ids = np.full((H, W), SKY, np.uint8)
    ids[20:48] = BUILDING
    ids[48:] = ROAD
    return ids


def _source_of(filled: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return filled[where][:, 0].astype(int), filled[where][:, 2].astype(int)


def test_a_removed_car_is_filled_with_road_from_the_same_rows_outside_the_hole() -> None:
    original = _street()
    original[60:84, 80:120] = CAR
    edited = original.copy()
    edited[original == CAR] = ROAD  # the user paints road over the car
    hole = dilate(edited != original, 6)
    photo = _coded_photo()
    filled, done = clone_fill(photo, edited, hole)
    assert done[hole].all()  # the photo shows road beside the car: nothing is left to a generator
    assert np.array_equal(filled[~hole], photo[~hole])  # only hole pixels are written
    rows, cols = _source_of(filled, hole)
    ys, _ = np.nonzero(hole)
    assert np.array_equal(rows, ys)  # moved sideways only: every row keeps its own road
    assert (original[rows, cols] == ROAD).all() and not hole[rows, cols].any()


def test_every_copied_pixel_comes_from_outside_the_hole_and_from_its_own_class(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clone, "SEAM", 0)  # exact copies everywhere, so every source can be read back
    original = _street()
    original[60:90, 10:60] = VEGETATION  # a bush: the only vegetation in the photo
    edited = original.copy()
    edited[24:40, 120:170] = VEGETATION  # a hedge painted onto the building, wider than the bush
    edited[70:90, 100:150] = BUILDING  # and a block of building on the road, far below the building
    hole = dilate(edited != original, 2)
    photo = _coded_photo()
    filled, done = clone_fill(photo, edited, hole)
    assert done.any() and not done[~hole].any()
    rows, cols = _source_of(filled, done)
    assert not hole[rows, cols].any()
    assert np.array_equal(original[rows, cols], edited[done])  # a vegetation pixel from vegetation, …
    # the hedge is wider than the bush: it takes more than one offset, and every one lands in it
    hedge = done & (edited == VEGETATION)
    assert hedge[24:40, 120:170].mean() > 0.5
    assert len({(int(r) - y, int(c) - x) for (y, x), r, c in
                zip(np.argwhere(hedge), *_source_of(filled, hedge), strict=True)}) >= 2


def test_a_class_the_photo_does_not_show_is_left_for_the_generator() -> None:
    original = _street()
    edited = original.copy()
    edited[60:80, 60:100] = CAR  # no car anywhere in the photo
    hole = dilate(edited != original, 4)
    filled, done = clone_fill(_coded_photo(), edited, hole)
    assert not done[edited == CAR].any()
    assert done[hole & (edited == ROAD)].all()  # the road ring around it is still cloned
    assert best_offset(np.zeros((8, 8), bool), np.ones((8, 8), bool)) is None


def _predictor() -> Predictor:
    cfg = GeneratorConfig(depth=3, ngf=4, upsample="resize")
    torch.manual_seed(0)
    g = build_generator(cfg).eval()
    return Predictor(LoadedGenerator(model=g, config=cfg, card={}, path=Path("tiny.safetensors")), "cpu",
                     backend="eager")


def test_clone_editor_is_bit_identical_outside_and_generates_what_the_photo_lacks() -> None:
    original = _street()
    original[60:84, 80:120] = CAR
    edited = original.copy()
    edited[original == CAR] = ROAD
    edited[30:40, 20:40] = CAR  # a car painted on the building: the photo has no car left to copy
    photo = _coded_photo()
    predictor = _predictor()
    editor = PhotoEditor(CloneRenderer(predictor))
    result = editor.render(photo, original, edited)
    outside = ~result.region
    assert np.array_equal(result.image[outside], photo[outside])
    assert result.box is not None and (result.box.height, result.box.width) == (H, W)  # sees the whole photo
    inner = result.alpha == 1  # no seam blend there: the renderer's own pixels
    road = inner & (edited == ROAD)
    rows, cols = _source_of(result.image, road)
    assert np.array_equal(rows, np.nonzero(road)[0]) and (original[rows, cols] == ROAD).all()
    new_car = inner & (edited == CAR)
    # not copied (every photo pixel has green 0): the generator's rendering
    assert (result.image[new_car][:, 1] != 0).mean() > 0.9


def test_where_two_blocks_meet_their_sources_are_mixed_and_elsewhere_copied_exactly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    original = _street()
    original[60:90, 10:60] = VEGETATION  # a bush narrower than the hedge: two offsets are needed
    edited = original.copy()
    edited[24:40, 100:175] = VEGETATION
    hole = dilate(edited != original, 2)
    photo = _coded_photo()
    blended, done = clone_fill(photo, edited, hole)
    seam = clone.SEAM
    monkeypatch.setattr(clone, "SEAM", 0)
    copied, _ = clone_fill(photo, edited, hole)
    # the offset each pixel was copied by (exact copies: colour = source position)
    ys, xs = np.mgrid[0:H, 0:W]
    offset = np.where(done, (copied[..., 0].astype(int) - ys) * 1000 + copied[..., 2].astype(int) - xs, -10**6)
    seams = np.zeros_like(done)
    seams[:, 1:] |= (offset[:, 1:] != offset[:, :-1]) & done[:, 1:] & done[:, :-1]
    seams[1:, :] |= (offset[1:, :] != offset[:-1, :]) & done[1:, :] & done[:-1, :]
    assert seams.any()
    near = dilate(seams, seam + 1)
    differs = (blended != copied).any(axis=2)
    assert differs.any() and not (differs & ~near).any()  # mixed at the seams only


def test_lane_markings_are_road_but_never_copied_into_a_removed_car() -> None:
    """A white stripe on dark asphalt is road to the segmenter; repeating it across a removed car's
    place would draw markings that are not there. Only road pixels of road's usual colour are copied
    (the photo: asphalt grey with grain, white dashes in the car's own rows)."""
    rng = np.random.default_rng(0)
    original = _street()
    original[60:84, 80:120] = CAR
    edited = original.copy()
    edited[original == CAR] = ROAD
    hole = dilate(edited != original, 6)
    photo = rng.integers(60, 80, size=(H, W, 3)).astype(np.uint8)
    stripes = np.zeros((H, W), bool)
    stripes[70:74, 10:70] = True  # dashes left and right of the car, in its rows
    stripes[70:74, 130:190] = True
    photo[stripes] = 235
    filled, done = clone_fill(photo, edited, hole)
    assert done[hole].all()
    assert filled[hole].max() < 80  # asphalt only: no white pixel came along
    assert np.array_equal(filled[~hole], photo[~hole])
    # Without the typical-colour rule the nearest road (same rows, beside the car) brings the dashes.
    untyped, _ = clone_fill(photo, edited, hole, typical=None)
    assert (untyped[hole] > 200).all(axis=-1).any()


def test_atypical_marks_outliers_of_each_region_by_its_robust_spread() -> None:
    photo = np.full((10, 10, 3), 100, np.uint8)
    photo[..., 0] = np.arange(10, dtype=np.uint8)[None, :] + 95  # a gentle gradient is typical
    photo[2, 3] = (250, 250, 250)
    photo[7, 7] = (100, 100, 180)  # off in one channel only
    ids = np.full((10, 10), ROAD, np.uint8)
    ids[:, 8:] = SKY  # another label, bright: typical of itself, judged by its own colours
    photo[:, 8:] = (230, 230, 240)
    photo[9, 9] = (40, 40, 40)
    regions = {ROAD: ids == ROAD, SKY: ids == SKY}
    regions[ROAD][0] = False  # not considered, whatever its colour
    photo[0, 0] = (0, 0, 0)
    out = clone.atypical(photo, ids, regions, 5.0)
    assert set(zip(*np.nonzero(out), strict=True)) == {(2, 3), (7, 7), (9, 9)}
    assert not clone.atypical(photo, ids, {ROAD: np.zeros((10, 10), bool)}, 5.0).any()
