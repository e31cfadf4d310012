"""Files without the window: label-map round trips, exports, recovery store, autosave, recent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import BadFileError
from core.labels import PALETTE_IDS, ids_to_color
from desktop import settings
from desktop.scene import files
from tests.desktop.app_helpers import scene_ids


def _every_class(h: int = 24, w: int = 40) -> np.ndarray:
    rng = np.random.default_rng(0)
    return PALETTE_IDS[rng.integers(0, len(PALETTE_IDS), size=(h, w))]


@pytest.mark.parametrize("fmt", ["ids", "color"])
def test_save_then_open_is_exact(tmp_path: Path, fmt: files.SaveFormat) -> None:
    ids = _every_class()
    path = files.save_label_map(tmp_path / f"scene_{fmt}.png", ids, fmt)
    opened = files.open_label_map(path)
    np.testing.assert_array_equal(opened.ids, ids)
    assert opened.kind == ("ids" if fmt == "ids" else "color")
    assert opened.snapped == 0


def test_colour_png_is_in_cityscapes_colours(tmp_path: Path) -> None:
    ids = _every_class()
    files.save_label_map(tmp_path / "c.png", ids, "color")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "c.png")), ids_to_color(ids))


def test_save_format_from_filter_and_name() -> None:
    assert files.save_format_for("a.png", "Cityscapes colour PNG (*.png)") == "color"
    assert files.save_format_for("frankfurt_gtFine_color.png") == "color"
    assert files.save_format_for("a.png", "Label ids PNG (*.png)") == "ids"


def test_side_by_side_puts_labels_left_and_output_right() -> None:
    ids = scene_ids()
    out = np.full((32, 64, 3), 9, dtype=np.uint8)
    both = files.side_by_side(ids, out)
    assert both.shape == (32, 128, 3)
    np.testing.assert_array_equal(both[:, :64], ids_to_color(ids))
    np.testing.assert_array_equal(both[:, 64:], out)


def test_unwritable_target_is_a_named_error(tmp_path: Path) -> None:
    folder = tmp_path / "is_a_folder.png"
    folder.mkdir()
    with pytest.raises(BadFileError, match="is_a_folder.png"):
        files.save_label_map(folder, scene_ids(), "ids")


def test_tiny_label_map_is_refused(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((2, 3), dtype=np.uint8)).save(tmp_path / "tiny.png")
    with pytest.raises(BadFileError, match="too small"):
        files.open_label_map(tmp_path / "tiny.png")


def test_recovery_store_round_trip_and_clear(tmp_path: Path) -> None:
    store = files.RecoveryStore(tmp_path / "recovery")
    assert store.load() is None
    ids = scene_ids()
    store.save(ids, tmp_path / "street.png", "color")
    got = store.load()
    assert got is not None
    np.testing.assert_array_equal(got.ids, ids)
    assert got.original_path == tmp_path / "street.png"
    assert got.save_format == "color"  # Ctrl+S after a restore writes the file as it was
    assert "street.png" in got.describe()
    store.clear()
    assert not store.exists()


def test_broken_recovery_file_is_discarded_not_fatal(tmp_path: Path) -> None:
    store = files.RecoveryStore(tmp_path / "recovery")
    store.save(scene_ids(), None)
    store.png.write_bytes(b"garbage")
    assert store.load() is None
    assert not store.exists()


def test_autosaver_keeps_the_newest_scene(tmp_path: Path) -> None:
    saver = files.Autosaver(files.RecoveryStore(tmp_path / "recovery"))
    ids = scene_ids()
    for label in (11, 21, 26):
        ids = ids.copy()
        ids[0, 0] = label
        saver.schedule(ids, None)
    saver.flush()
    got = saver.store.load()
    assert got is not None and got.ids[0, 0] == 26
    saver.clear()
    assert not saver.store.exists()
    saver.shutdown()


def test_recent_files_newest_first_without_duplicates(isolated_home: Path, tmp_path: Path) -> None:
    recent = files.RecentFiles(settings.settings())
    for name in ("a.png", "b.png", "a.png"):
        recent.add(tmp_path / name)
    assert [p.name for p in recent.paths()] == ["a.png", "b.png"]
    assert str(isolated_home) in settings.settings().fileName()  # never the user's real settings
    recent.remove(tmp_path / "a.png")
    assert [p.name for p in recent.paths()] == ["b.png"]
