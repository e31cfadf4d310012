"""Colour label maps -> ids (fuzzed): palette colours map to themselves, and JPEG-noised blocky maps
(quality 75, Pillow's default 4:2:0 chroma subsampling) snap back to >= 99 % of the right ids."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core.data.snap import snap_colors
from core.labels import PALETTE_COLORS, PALETTE_IDS, color_to_ids, ids_to_color

palette_index = st.integers(min_value=0, max_value=len(PALETTE_IDS) - 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(palette_index, min_size=1, max_size=64), st.integers(1, 8))
def test_palette_colours_map_to_themselves(indices: list[int], height: int) -> None:
    rgb = np.repeat(PALETTE_COLORS[indices][None], height, axis=0)  # (height, n, 3)
    result = snap_colors(rgb)
    np.testing.assert_array_equal(result.ids, np.repeat(PALETTE_IDS[indices][None], height, axis=0))
    assert result.snapped == 0 and result.total == rgb.shape[0] * rgb.shape[1]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([16, 24, 32]), st.integers(70, 80))
def test_jpeg_noised_blocky_maps_snap_back(seed: int, block: int, quality: int) -> None:
    rng = np.random.default_rng(seed)
    coarse = rng.choice(PALETTE_IDS, size=(128 // block + 1, 256 // block + 1))
    ids = np.kron(coarse, np.ones((block, block), np.uint8))[:128, :256].astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(ids_to_color(ids)).save(buf, format="JPEG", quality=quality)
    with Image.open(buf) as im:
        noisy = np.asarray(im.convert("RGB"))
    assert not np.array_equal(noisy, ids_to_color(ids))  # JPEG really changed the colours
    result = snap_colors(noisy)
    assert (result.ids == ids).mean() >= 0.99
    assert result.snapped > 0


def test_neighbourhood_snapping_beats_plain_nearest_colour_on_jpeg() -> None:
    """Why core.data.snap exists: a JPEG'd border pixel between two classes is often nearest to a
    third class; restricting it to its neighbours' classes fixes that."""
    rng = np.random.default_rng(0)
    ids = np.kron(rng.choice(PALETTE_IDS, size=(16, 32)), np.ones((8, 8), np.uint8)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(ids_to_color(ids)).save(buf, format="JPEG", quality=75)
    with Image.open(buf) as im:
        noisy = np.asarray(im.convert("RGB"))
    plain = (color_to_ids(noisy).ids == ids).mean()
    ours = (snap_colors(noisy).ids == ids).mean()
    assert ours > plain + 0.05
    assert ours > 0.98


def test_empty_and_malformed_input() -> None:
    assert snap_colors(np.zeros((0, 5, 3), np.uint8)).total == 0
    try:
        snap_colors(np.zeros((4, 4), np.uint8))
    except ValueError as exc:
        assert "H×W×3" in str(exc)
    else:
        raise AssertionError("a 2-D array is not a colour image")
