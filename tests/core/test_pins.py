"""Pinned paintings: `train --pin` renders them at every sample step into pinned/NAME/, each
frame equal to the run's generator at that step; pins survive a resume; they change nothing the
run learns (a run with pins ends bit-identical to one without)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.render import provenance
from core.weights.checkpoints import load_training_state, load_weights
from core.io.imageio import read_label_ids, read_rgb, write_color_png, write_label_ids_png
from core.render.infer import Predictor
from core.train.pins import list_pins, list_renders, pin_labels
from tests.core.test_checkpoint_state import assert_identical
from tests.core.test_train_cli import TINY, cli
from tests.core.train_helpers import tiny_pairs

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _labels(tmp_path: Path) -> tuple[Path, Path]:
    ids_a, ids_b = tiny_pairs(2, size=48, seed=3)[0][0], tiny_pairs(2, size=48, seed=3)[1][0]
    a = tmp_path / "street_a.png"
    write_label_ids_png(a, ids_a)
    b = tmp_path / "street_b_color.png"
    write_color_png(b, ids_b)  # a colour label map is snapped, as everywhere
    return a, b


def test_train_pin_renders_each_sample_step_and_survives_resume(aligned_dataset, tmp_path):
    a, b = _labels(tmp_path)
    run = tmp_path / "run"
    common = ["--sample-every", "2", "--checkpoint-every", "2"]
    assert cli("--data", str(aligned_dataset), "--run-dir", str(run), "--max-steps", "4", "--seed", "3",
               "--pin", str(a), "--pin", str(b), *common, *TINY) == 0
    assert [name for name, _ in list_pins(run)] == ["street_a", "street_b_color"]
    renders = list_renders(run)
    assert [s for s, _ in renders["street_a"]] == [2, 4]
    # Each frame is the generator of that step, in eval mode, on the pinned painting.
    step4 = Predictor.from_path(run / "checkpoints" / "step_0000004.safetensors", "cpu", backend="eager")
    frame = renders["street_a"][-1][1]
    np.testing.assert_array_equal(read_rgb(frame), step4.predict(read_label_ids(a)))
    record = provenance.read(frame)
    assert record.get("kind") == "pinned" and record.get("step") == "4" and record.get("pin") == "street_a"
    np.testing.assert_array_equal(record.labels, read_label_ids(a))

    assert cli("--resume", str(run), "--max-steps", "6") == 0  # pins live in the run folder
    assert [s for s, _ in list_renders(run)["street_b_color"]] == [2, 4, 6]
    kinds = [json.loads(line)["kind"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert kinds.count("pinned_sample") == 6


def test_pins_change_nothing_the_run_learns(aligned_dataset, tmp_path):
    a, _ = _labels(tmp_path)
    args = ["--data", str(aligned_dataset), "--max-steps", "4", "--seed", "5", "--sample-every", "1", *TINY]
    assert cli("--run-dir", str(tmp_path / "plain"), *args) == 0
    assert cli("--run-dir", str(tmp_path / "pinned"), "--pin", str(a), *args) == 0
    assert_identical(load_training_state(tmp_path / "plain/checkpoints/last.pt")["generator"],
                     load_training_state(tmp_path / "pinned/checkpoints/last.pt")["generator"])
    assert load_weights(tmp_path / "pinned/checkpoints/last.safetensors").card["step"] == 4


def test_pinning_the_same_painting_twice_keeps_one_file_and_a_bad_pin_is_a_user_error(tmp_path, capsys):
    ids = tiny_pairs(1, size=32)[0][0]
    first = pin_labels(tmp_path, ids, "my street!")
    assert first.name == "my_street.png" and pin_labels(tmp_path, ids, "my street!") == first
    other = ids.copy()
    other[0, 0] = 26
    assert pin_labels(tmp_path, other, "my street!").name == "my_street-2.png"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"nope")
    assert cli("--data", "synthetic", "--run-dir", str(tmp_path / "r"), "--pin", str(broken), *TINY) == 2
    assert "broken.png" in capsys.readouterr().err
