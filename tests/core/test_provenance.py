"""Provenance in rendered PNGs: `infer` writes the record, `info IMAGE.png` prints it, and the
recorded label map + checkpoint + seed reproduce the image bit for bit (same device and path)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import __version__
from core.render import provenance
from core.cli import main
from core.io.imageio import read_label_ids, read_rgb, write_label_ids_png
from core.render.infer import Predictor
from tests.core.test_cli_infer import make_weights, scene


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return make_weights(tmp_path / "tiny.safetensors")


def _infer(tmp_path: Path, weights: Path, *extra: str) -> tuple[np.ndarray, Path]:
    ids = scene(40, 72, seed=3)
    label_path = tmp_path / "scene_labelIds.png"
    write_label_ids_png(label_path, ids)
    out = tmp_path / "out.png"
    assert main(["infer", "--checkpoint", str(weights), "--input", str(label_path), "--output", str(out),
                 "--device", "cpu", "--backend", "eager", *extra]) == 0
    return ids, out


@pytest.mark.parametrize("variation", [None, 7])
def test_infer_writes_provenance_that_reproduces_the_image_bit_exactly(tmp_path, variation, capsys):
    weights = make_weights(tmp_path / "tiny.safetensors", depth=6)  # with dropout: the seed matters
    extra = () if variation is None else ("--variation", str(variation))
    ids, out = _infer(tmp_path, weights, *extra)
    record = provenance.read(out)
    assert record.get("app_version") == __version__
    assert record.get("checkpoint_sha256") == provenance.file_sha256(weights)
    assert record.get("checkpoint_name") == "tiny.safetensors" and record.get("checkpoint_step") == "11"
    assert record.get("input_encoding") == "onehot"
    assert record.get("variation") == ("deterministic" if variation is None else "7")
    assert record.get("palette_version") == provenance.PALETTE_VERSION
    assert record.get("labels_sha256") == provenance.labels_sha256(ids)
    np.testing.assert_array_equal(record.labels, ids)
    # Independently of the CLI: render the recorded map with the recorded checkpoint and seed.
    assert record.labels is not None
    again = Predictor.from_path(weights, "cpu", backend="eager").predict(record.labels, variation=record.variation)
    np.testing.assert_array_equal(again, read_rgb(out))
    capsys.readouterr()
    assert main(["info", str(out), "--verify", str(weights)]) == 0
    text = capsys.readouterr().out
    assert "bit-exact" in text and f"checkpoint_sha256: {record.get('checkpoint_sha256')}" in " ".join(text.split())


def test_a_variation_changes_the_image_and_the_record(tmp_path):
    weights = make_weights(tmp_path / "deep.safetensors", depth=6)  # deep enough to have dropout
    _, plain = _infer(tmp_path, weights)
    plain_pixels = read_rgb(plain)
    _, varied = _infer(tmp_path, weights, "--variation", "3")
    assert provenance.read(varied).variation == 3
    assert not np.array_equal(plain_pixels, read_rgb(varied))


def test_info_prints_json_and_extracts_the_label_map(tmp_path, weights, capsys):
    ids, out = _infer(tmp_path, weights)
    capsys.readouterr()
    labels_out = tmp_path / "extracted.png"
    assert main(["info", str(out), "--json", "--labels-out", str(labels_out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "infer" and data["labels_embedded"] is True and data["source"] == "scene_labelIds.png"
    np.testing.assert_array_equal(read_label_ids(labels_out), ids)


def test_verify_with_another_checkpoint_is_refused_by_hash(tmp_path, weights, capsys):
    _, out = _infer(tmp_path, weights)
    other = make_weights(tmp_path / "other.safetensors", seed=1)
    capsys.readouterr()
    assert main(["info", str(out), "--verify", str(other)]) == 2
    assert "is not the recorded checkpoint" in capsys.readouterr().err


def test_an_image_without_provenance_is_a_clear_user_error(tmp_path, capsys):
    plain = tmp_path / "plain.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(plain)
    assert main(["info", str(plain)]) == 2
    err = capsys.readouterr().err
    assert "plain.png" in err and "no Road Studio provenance" in err and "Traceback" not in err


def test_a_damaged_embedded_label_map_is_not_handed_out(tmp_path):
    ids = scene(16, 16)
    record = provenance.Provenance(kind="output", model=None, labels=ids)
    path = provenance.write_png(tmp_path / "x.png", np.zeros((16, 16, 3), np.uint8), record)
    with Image.open(path) as image:
        image.load()
        text = dict(image.info)  # a PNG's text chunks (Image.text is PngImageFile-only)
    text[provenance.PREFIX + "labels_sha256"] = "0" * 64  # the map no longer matches its hash
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    for k, v in text.items():
        info.add_text(k, v)
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(path, pnginfo=info)
    assert provenance.read(path).labels is None
