"""The dataset check report, the preview grid and `roadstudio-cli data check` exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.data.check import check_dataset, write_preview_grid
from core.data.synthetic import SyntheticStreets
from core.io.imageio import read_rgb
from core.labels import ids_to_color
from tests.core.test_data_fixtures import make_aligned, make_cityscapes

CLI = [sys.executable, "-c", "import sys; from core.cli import main; sys.exit(main())"]


def test_report_counts_sizes_histogram(tmp_path: Path) -> None:
    root = make_cityscapes(tmp_path / "cs", {"train": 3, "val": 2})
    calls: list[tuple[int, int]] = []
    report = check_dataset(root, progress=lambda done, total: calls.append((done, total)))
    assert report.layout == "cityscapes"
    assert {k: (v.pairs, v.valid) for k, v in report.splits.items()} == {"train": (3, 3), "val": (2, 2)}
    assert report.sizes == {(32, 64): 5}
    hist = report.histogram
    assert abs(sum(hist.values()) - 1.0) < 1e-9
    assert hist["road"] > 0.1 and hist["sky"] > 0 and hist["building"] + hist["vegetation"] > 0
    assert report.snapped_share == 0.0  # id PNGs need no snapping
    assert calls == [(i, 5) for i in range(1, 6)]


def test_max_files_limits_the_work(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "al", {"train": 5})
    report = check_dataset(root, max_files=2)
    assert report.checked == 2 and report.splits["train"].pairs == 5
    assert "5 pairs, 2 checked, 2 valid" in report.format_text()


def test_preview_grid_from_report_and_from_source(tmp_path: Path) -> None:
    root = make_aligned(tmp_path / "al", {"train": 3})
    out = write_preview_grid(check_dataset(root), tmp_path / "prev.png", n=2)
    grid = read_rgb(out)
    assert grid.shape == (2 * 128 + 4, 128 + 4 + 128, 3)  # two rows of label | gap | photo
    source = SyntheticStreets(4, 0, (32, 64))
    grid = read_rgb(write_preview_grid(source, tmp_path / "syn.png", n=4, row_height=32))
    assert grid.shape == (4 * 36 - 4, 64 + 4 + 64, 3)
    labels, photo = source[0]
    np.testing.assert_array_equal(grid[:32, :64], ids_to_color(labels))  # label colours, then the photo
    np.testing.assert_array_equal(grid[:32, 68:], photo)


def test_cli_exit_0_with_valid_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_aligned(tmp_path / "al", {"train": 2})
    (root / "train" / "3.jpg").write_bytes(b"")
    code = main(["data", "check", str(root), "--preview", str(tmp_path / "p.png")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "layout:    aligned (direction BtoA)" in out
    assert "valid pairs: 2 of 3 checked" in out
    assert f"{root / 'train' / '3.jpg'}: empty file (0 bytes)" in out
    assert "class histogram" in out and "road" in out
    assert (tmp_path / "p.png").is_file()
    assert "Traceback" not in err


def test_cli_exit_2_when_not_usable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(tmp_path / "missing")]) == 2
    out, err = capsys.readouterr()
    assert err.strip() == f"error: {tmp_path / 'missing'}: no such folder"
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "1.jpg").write_text("text")
    assert main(["data", "check", str(tmp_path / "bad")]) == 2
    out, err = capsys.readouterr()
    assert "1.jpg: not an image file" in out
    assert err.strip().splitlines() == [f"error: {tmp_path / 'bad'}: not a usable dataset: 1 pair checked, all bad"]
    assert main(["data", "check", str(tmp_path / "bad"), "--format", "cityscapes"]) == 2
    assert "not a Cityscapes folder" in capsys.readouterr().err


def test_cli_synthetic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", "synthetic", "--max-files", "2"]) == 0
    assert "layout:    synthetic" in capsys.readouterr().out


def test_cli_as_a_real_process(tmp_path: Path) -> None:
    """One real process (the console script's code path): a broken dataset gives exit 2 and exactly
    one line on stderr, no traceback. (The exit-0 path is covered in-process above.)"""
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "1.jpg").write_bytes(b"")
    env = dict(os.environ, PYTHONWARNINGS="error")
    done = subprocess.run([*CLI, "data", "check", str(tmp_path / "ds")],
                          capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'ds'}: not a usable dataset: 1 pair checked, all bad"]
    assert "1.jpg: empty file (0 bytes)" in done.stdout


@pytest.mark.shared_data
def test_cli_on_the_real_datasets(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(shared_data / "cityscapes-mini-aligned")]) == 0
    out = capsys.readouterr().out
    assert "valid pairs: 8 of 8 checked" in out and "pair sizes (W×H): 256×256: 8" in out
    assert main(["data", "check", str(shared_data / "cityscapes-mini"), "--max-files", "2"]) == 0
    out = capsys.readouterr().out
    assert "layout:    cityscapes" in out and "2048×1024: 2" in out


def test_cli_synth_writes_a_dataset_that_checks_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "syn"
    assert main(["data", "synth", str(out), "--count", "3", "--size", "32x64", "--seed", "4", "--colour"]) == 0
    assert sorted(p.name for p in (out / "A").iterdir()) == ["0.png", "1.png", "2.png"]
    assert (out / "B_color" / "2.png").is_file()
    from core.data.synthetic import generate_pair
    from core.io.imageio import read_label_ids

    np.testing.assert_array_equal(read_label_ids(out / "B" / "1.png"), generate_pair(4, 1, (32, 64))[0])
    report = check_dataset(out)
    assert report.layout == "folders" and report.valid_pairs == 3 and report.bad_files == []
    capsys.readouterr()
    assert main(["data", "synth", str(out), "--size", "tiny"]) == 2
    assert "--size must look like 256x512" in capsys.readouterr().err


def test_cli_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    root = make_aligned(tmp_path / "al", {"train": 2, "val": 1})
    (root / "val" / "2.jpg").write_text("no")
    assert main(["data", "check", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["layout"] == "aligned" and data["valid_pairs"] == 3
    assert data["splits"] == {"train": {"pairs": 2, "checked": 2, "valid": 2},
                              "val": {"pairs": 2, "checked": 2, "valid": 1}}
    assert data["sizes"] == [{"height": 32, "width": 32, "count": 3}]
    assert data["bad_files"] == [{"path": str(root / "val" / "2.jpg"), "reason": "not an image file"}]
    assert abs(sum(data["histogram"].values()) - 1) < 1e-9


def _png_pair(path: Path, size: int, seed: int) -> None:
    """An aligned A|B PNG (photo | colour labels) of size×size pairs."""
    from PIL import Image

    from tests.core.test_data_fixtures import pair

    labels, photo = pair(seed, (size, size)) if size >= 8 else (np.full((size, size), 7, np.uint8),
                                                                np.zeros((size, size, 3), np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([photo, ids_to_color(labels)], axis=1)).save(path)


def test_pairs_too_small_to_train_on_are_bad_files_and_minority_sizes_are_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "mixed"
    for i in range(4):
        _png_pair(root / "train" / f"{i}.png", 32, i)
    _png_pair(root / "train" / "thumb.png", 2, 9)  # a 2×2 pair: nothing to learn from
    _png_pair(root / "train" / "odd.png", 24, 5)  # usable, but the odd one out
    report = check_dataset(root)
    assert report.valid_pairs == 5
    assert [(str(p), r) for p, r in report.bad_files] == [
        ("train/thumb.png", "too small to train on: 2×2 pixels (at least 16 px a side)")]
    assert report.minority_sizes == [((24, 24), 1, ["train/odd.png"])]
    text = report.format_text()
    assert "minority size 24×24: 1 pair (train/odd.png)" in text
    assert report.to_dict()["minority_sizes"] == [{"height": 24, "width": 24, "count": 1, "files": ["train/odd.png"]}]

    # With the training crop given, pairs below it are bad too; mixed sizes above it stay valid.
    assert main(["data", "check", str(root), "--crop-size", "28"]) == 0
    out = capsys.readouterr().out
    assert "train/odd.png: too small to train on: 24×24 pixels, smaller than the crop size 28×28" in out
    assert "valid pairs: 4 of 6 checked" in out
    # A folder of nothing but thumbnails is not a usable dataset (exit 2, one line).
    tiny = tmp_path / "tiny"
    _png_pair(tiny / "1.png", 2, 0)
    assert main(["data", "check", str(tiny)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tiny}: not a usable dataset: 1 pair checked, all bad"
