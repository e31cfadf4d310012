"""Issue 18, "what you paint is what you get": class-adaptive decoder modulation (CLADE),
painting-like training label maps, rare-class-aware sampling, hold-out by clip, the per-class pixel
share a run trained on, and the painted test set with `eval --painted`."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from core.weights.checkpoints import load_weights, save_weights
from core.config import DataConfig, GeneratorConfig, RunConfig
from core.data.base import InMemoryPairs
from core.data.painting import paint_like
from core.data.rare import RareRepeatSource, apply_rare_sampling, presence_matrix, repeat_factors
from core.data.transforms import joint_transform
from core.models.encoding import encode_labels
from core.errors import ConfigError
from core.labels import ID_TO_PALETTE_INDEX, PALETTE_IDS, class_by_name
from core.models import build_generator, count_parameters
from core.models.unet import ClassAffine
from core.train.events import Finished
from core.train.loop import train
from tests.core.test_checkpoint_state import assert_identical
from tests.core.train_helpers import one_torch_thread, tiny_config, tiny_sources, straight_and_resumed

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)

REPO = Path(__file__).resolve().parents[2]
PAINTED_SET = REPO / "benchmarks" / "painted_set"
ROAD, SIDEWALK, BUILDING, CAR, BUS, SKY, VEG = 7, 8, 11, 26, 28, 23, 21


def _clade(depth: int = 4, ngf: int = 4) -> GeneratorConfig:
    return GeneratorConfig(depth=depth, ngf=ngf, upsample="resize", modulation="clade")


def _street(size: int = 64, seed: int = 0) -> np.ndarray:
    """A real-looking label map: sky, building, road, and ragged noise along every boundary."""
    rng = np.random.default_rng(seed)
    ids = np.full((size, size), SKY, np.uint8)
    ids[size // 4:] = BUILDING
    ids[size // 2:] = ROAD
    ids[size // 2: size * 3 // 4, size // 4: size // 2] = CAR
    ragged = rng.random((size, size)) < 0.08
    ids[ragged] = rng.choice([SKY, BUILDING, ROAD, VEG, 0], size=int(ragged.sum()))
    return ids


# ----------------------------------------------------------------------------------- CLADE


def test_class_affine_scales_and_shifts_each_pixel_by_its_class_row() -> None:
    mod = ClassAffine(classes=3, channels=2)
    with torch.no_grad():
        mod.gamma[:, :, 0, 0] = torch.tensor([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])  # (channels, classes)
        mod.beta[:, :, 0, 0] = torch.tensor([[0.5, 0.0, -1.0], [0.0, 0.0, 7.0]])
    classes = torch.tensor([[0, 1], [2, 2]])
    seg = nn.functional.one_hot(classes, 3).permute(2, 0, 1)[None].float()  # (1, 3, 2, 2)
    x = torch.ones(1, 2, 2, 2)
    out = mod(x, seg)[0]
    assert out[0].tolist() == [[1.5, 2.0], [2.0, 2.0]]
    assert out[1].tolist() == [[10.0, 20.0], [37.0, 37.0]]


def test_clade_generator_adds_only_the_class_tables_and_needs_onehot_input() -> None:
    plain = build_generator(GeneratorConfig(depth=4, ngf=4, upsample="resize"))
    clade = build_generator(_clade())
    modulated = [m for m in clade.modules() if isinstance(m, ClassAffine)]
    assert len(modulated) == 3  # every up block but the outermost (Tanh) one
    # The tables (2 × 20 × C) replace BatchNorm's own affine (2 × C) in those blocks.
    extra = sum(2 * 20 * m.gamma.shape[0] - 2 * m.gamma.shape[0] for m in modulated)
    assert count_parameters(clade) == count_parameters(plain) + extra
    with pytest.raises(ConfigError, match="onehot"):
        GeneratorConfig(input_encoding="color", modulation="clade")


def test_clade_class_tables_steer_the_pixels_of_their_class() -> None:
    torch.manual_seed(0)
    g = build_generator(_clade()).eval()
    ids = torch.from_numpy(_street(32))[None]
    x = encode_labels(ids, "onehot")
    with torch.no_grad():
        before = g(x)
        car = int(ID_TO_PALETTE_INDEX[CAR])
        for m in g.modules():
            if isinstance(m, ClassAffine):
                m.beta[:, car] += 3.0  # brighten / shift what the decoder draws for cars only
        after = g(x)
    change = (after - before).abs().amax(dim=1)[0]  # (32, 32)
    is_car = ids[0] == CAR
    assert (change[is_car] > 1e-4).all()
    # Convolutions after a modulated level spread its change a little; far from the car it fades.
    far = torch.ones_like(is_car)
    rows, cols = torch.nonzero(is_car, as_tuple=True)
    far[max(0, int(rows.min()) - 4): int(rows.max()) + 5, max(0, int(cols.min()) - 4): int(cols.max()) + 5] = False
    assert float(change[is_car].mean()) > 5 * float(change[far].mean())


def test_clade_folds_exports_and_round_trips(tmp_path: Path) -> None:
    from core.render.fast.fold import fold_batchnorm

    torch.manual_seed(1)
    g = build_generator(_clade(depth=5)).train()
    x = encode_labels(torch.from_numpy(np.stack([_street(64, s) for s in range(2)])), "onehot")
    with torch.no_grad():
        for _ in range(3):  # real running statistics
            g(x)
    g.eval()
    with torch.no_grad():
        expected = g(x)
        assert float((fold_batchnorm(g)(x) - expected).abs().max()) < 1e-4
    path = save_weights(tmp_path / "g.safetensors", g, g.config, {"run": "t"})
    loaded = load_weights(path)
    assert loaded.config.modulation == "clade"
    with torch.no_grad():
        assert torch.equal(loaded.model.eval()(x), expected)
    pytest.importorskip("onnxruntime")
    from core.weights.onnx_export import export_onnx_bytes, max_abs_diff_ort, ort_session

    session = ort_session(export_onnx_bytes(g, x[:1]))
    other = encode_labels(torch.from_numpy(np.stack([_street(96, 5)[:64]])), "onehot")  # 64×96
    assert max_abs_diff_ort(session, g, other) < 1e-4


def test_clade_label_pyramid_is_the_nearest_resize_of_each_level() -> None:
    g = build_generator(_clade(depth=5))
    ids = torch.from_numpy(_street(64))[None]
    x = encode_labels(ids, "onehot")
    pyramid = g._label_pyramid(x)
    assert pyramid[0] is None  # the outermost block is not modulated
    for level in range(1, 5):
        size = 64 // 2**level
        expected = nn.functional.interpolate(x, size=(size, size), mode="nearest")
        seg = pyramid[level]
        assert seg is not None and torch.equal(seg, expected)
        # still one-hot: every pixel exactly one class
        assert torch.equal(seg.sum(dim=1), torch.ones(1, size, size))


def test_clade_export_graph_reads_the_label_map_once_and_keeps_the_output_exact() -> None:
    """The preview's ONNX graph: the class tables are fed by a stride-2 pyramid (no Resize of the
    label map per level, no copy of the input) and the shift is a 1×1 conv (which ONNX Runtime
    keeps in its blocked layout), with the eager model's values."""
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from core.weights.onnx_export import export_onnx_bytes, max_abs_diff_ort, ort_session

    torch.manual_seed(2)
    g = build_generator(_clade(depth=5)).eval()
    x = encode_labels(torch.from_numpy(_street(64))[None], "onehot")
    data = export_onnx_bytes(g, x)
    graph = onnx.load_from_string(data).graph
    ops = [n.op_type for n in graph.node]
    resized = [n for n in graph.node if n.op_type == "Resize"]
    assert len(resized) == 5  # the ×2 upsampling of each up block, none of the label map
    assert all("/resize/" in n.output[0] for n in resized)
    assert ops.count("MaxPool") == 4 and "Slice" not in ops and "Add" not in ops
    assert max_abs_diff_ort(ort_session(data), g, x) < 1e-5


def test_clade_run_resumes_bit_identical(tmp_path: Path) -> None:
    base = tiny_config(size=32, depth=4, ngf=4, ndf=4, epochs=2, epochs_decay=1, checkpoint_every=3)
    cfg = base.replace(generator=dataclasses.replace(base.generator, upsample="resize", modulation="clade"))
    events, cut_step, straight, resumed = straight_and_resumed(cfg, tmp_path, {"count": 5, "val": 2, "size": 32}, 4)
    assert isinstance(events[-1], Finished) and cut_step == 3
    assert_identical(straight, resumed)


# ------------------------------------------------------------------------ painting-like maps


def _boundary_pixels(ids: np.ndarray) -> int:
    return int((ids[1:] != ids[:-1]).sum() + (ids[:, 1:] != ids[:, :-1]).sum())


def test_paint_like_simplifies_shapes_fills_void_and_keeps_palette_ids() -> None:
    ids = _street(128)
    painted = [paint_like(ids, np.random.default_rng(seed)) for seed in range(6)]
    for out in painted:
        assert out.shape == ids.shape and out.dtype == np.uint8
        assert set(np.unique(out)) <= set(PALETTE_IDS.tolist())
        assert not (out == 0).any()  # void specks merged into their surroundings
        assert _boundary_pixels(out) < 0.5 * _boundary_pixels(ids)  # ragged edges gone
        # the big regions survive: most pixels keep their class
        assert (out == ids).mean() > 0.75
    assert np.array_equal(paint_like(ids, np.random.default_rng(3)), painted[3])  # seeded


def test_painted_share_changes_labels_only_never_the_photo() -> None:
    ids = _street(64)
    photo = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    cfg = DataConfig(load_size=(72, 72), crop_size=(64, 64))
    plain_ids, plain_photo = joint_transform(ids, photo, cfg, np.random.default_rng(7), True)
    painted_cfg = dataclasses.replace(cfg, painted_share=1.0)
    painted_ids, painted_photo = joint_transform(ids, photo, painted_cfg, np.random.default_rng(7), True)
    assert torch.equal(plain_photo, painted_photo)
    assert not torch.equal(plain_ids, painted_ids)
    # validation pairs are never painted
    val_ids, _ = joint_transform(ids, photo, painted_cfg, np.random.default_rng(7), False)
    assert torch.equal(val_ids, joint_transform(ids, photo, cfg, np.random.default_rng(7), False)[0])


# -------------------------------------------------------------------------- rare classes


def test_repeat_factors_follow_the_lvis_rule() -> None:
    presence = np.zeros((100, 20), dtype=bool)
    presence[:, 1] = True  # road in every frame: never boosted
    presence[:4, 15] = True  # bus in 4 % of the frames
    presence[:1, 16] = True  # train in 1 %
    share, r_class, repeats = repeat_factors(presence, threshold=0.36, max_repeat=5)
    assert share[15] == pytest.approx(0.04) and r_class[15] == pytest.approx(3.0)
    assert r_class[16] == pytest.approx(6.0) and r_class[1] == 1.0
    assert repeats[0] == 5  # max over its classes (6), capped at 5
    assert repeats[1:4].tolist() == [3, 3, 3] and (repeats[4:] == 1).all()


def test_rare_sampling_repeats_frames_with_rare_classes_and_crops_around_them() -> None:
    frames = []
    for i in range(10):
        ids = np.full((64, 128), ROAD, np.uint8)
        ids[:20] = SKY
        if i == 0:
            ids[40:46, 100:110] = BUS  # a small bus in one frame of ten
        frames.append((ids, np.zeros((64, 128, 3), np.uint8)))
    source = InMemoryPairs(frames, "toy")
    counts = {source.describe(i): np.bincount(ID_TO_PALETTE_INDEX[f[0]].ravel(), minlength=20)
              for i, f in enumerate(frames)}
    assert presence_matrix(source, counts)[0, ID_TO_PALETTE_INDEX[BUS]]
    repeated, info = apply_rare_sampling(source, counts, threshold=0.4, max_repeat=8)
    assert isinstance(repeated, RareRepeatSource)
    assert len(repeated) == 10 - 1 + 2  # sqrt(0.4 / 0.1) = 2 copies of the bus frame
    assert [repeated.describe(i) for i in range(3)] == ["toy #0", "toy #0", "toy #1"]
    assert repeated.rare_ids == frozenset({BUS})
    assert "bus ×2.0" in info.summary()
    # crops of 32×32 out of 64×128: with rare_crop_prob 1 every crop of the bus frame holds the bus
    cfg = DataConfig(load_size=(64, 128), crop_size=(32, 32), flip=False, rare_crop_prob=1.0)
    hits = [bool((joint_transform(frames[0][0], frames[0][1], cfg, np.random.default_rng(s), True,
                                  repeated.rare_ids)[0] == BUS).any()) for s in range(20)]
    plain = [bool((joint_transform(frames[0][0], frames[0][1], cfg, np.random.default_rng(s), True)[0]
                   == BUS).any()) for s in range(20)]
    assert all(hits) and sum(plain) < 10


def _write_folders(root: Path, names: list[str], ids: np.ndarray) -> None:
    from core.io.imageio import write_label_ids_png, write_png

    (root / "A").mkdir(parents=True)
    (root / "B").mkdir()
    for name in names:
        write_png(root / "A" / f"{name}.png", np.full((*ids.shape, 3), 90, np.uint8))
        write_label_ids_png(root / "B" / f"{name}.png", ids)


def test_holdout_moves_whole_clips_to_validation_and_extra_repeats_apply_per_path(tmp_path: Path) -> None:
    from core.data.registry import open_datasets

    ids = _street(64)
    _write_folders(tmp_path / "seq", [f"city_{clip:06d}_{frame:06d}" for clip in range(3) for frame in range(4)], ids)
    _write_folders(tmp_path / "mini", ["x_0", "x_1"], ids)
    cfg = DataConfig(path=str(tmp_path / "seq"), crop_size=(32, 32), load_size=(36, 36), val_fraction=0.0,
                     extra_paths=(str(tmp_path / "mini"),), extra_repeats=(3,), holdout=("*city_000002_*",))
    train_src, val_src, warnings = open_datasets(cfg, seed=0)
    names = {train_src.describe(i) for i in range(len(train_src))}
    assert len(train_src) == 8 + 2 * 3 and not any("city_000002" in n for n in names)
    assert val_src is not None and len(val_src) == 4
    assert all("city_000002" in val_src.describe(i) for i in range(4))
    with pytest.raises(ConfigError, match="extra_repeats"):
        dataclasses.replace(cfg, extra_repeats=(1, 2))


def test_run_reports_and_records_the_class_pixel_share_it_trained_on(tmp_path: Path) -> None:
    cfg = tiny_config(size=32, depth=4, ngf=4, ndf=4, max_steps=3, checkpoint_every=3)
    events = list(train(cfg, tmp_path / "run", sources=tiny_sources(count=4, size=32)))
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.class_pixel_share is not None
    share = finished.class_pixel_share
    assert sum(share.values()) == pytest.approx(1.0, abs=1e-4)
    assert share["road"] > 0.3 and share["sky"] > 0.1 and share["bus"] == 0.0
    card = load_weights(tmp_path / "run/checkpoints/last.safetensors").card
    assert card["class_pixel_share"] == share


# ---------------------------------------------------------------------------- painted set


def test_painted_set_holds_every_brush_class_in_several_scenes() -> None:
    from core.io.imageio import read_label_ids

    files = sorted(PAINTED_SET.glob("*.png"))
    assert len(files) >= 30
    seen = {c.name: 0 for c in (class_by_name(n) for n in ("road", "terrain", "wall", "truck", "bus", "train",
                                                               "motorcycle", "traffic light", "rider"))}
    for path in files:
        ids = read_label_ids(path)
        assert ids.shape == (256, 512)
        for name in seen:
            seen[name] += int((ids == class_by_name(name).id).any())
    assert min(seen.values()) >= 5, seen


def test_eval_painted_scores_renderings_against_painted_labels(tmp_path: Path) -> None:
    g = build_generator(GeneratorConfig(depth=3, ngf=4))
    ckpt = save_weights(tmp_path / "g.safetensors", g.eval(), g.config, {})
    out = subprocess.run([sys.executable, "-m", "core", "eval", "--checkpoint", str(ckpt), "--painted",
                          str(PAINTED_SET), "--limit", "2", "--json", str(tmp_path / "p.json")],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert out.returncode == 0, out.stderr
    assert "FCN-score on paintings" in out.stdout and "flat colours" in out.stdout
    import json

    report = json.loads((tmp_path / "p.json").read_text())
    assert report["maps"] == 2 and 0.0 <= report["results"]["generated"]["pixel_acc"] <= 1.0
    both = subprocess.run([sys.executable, "-m", "core", "eval", "--checkpoint", str(ckpt), "--painted",
                           str(PAINTED_SET), "--data", str(tmp_path)], capture_output=True, text=True, cwd=REPO,
                          check=False)
    assert both.returncode == 2 and "either --data" in both.stderr


def test_train_flags_set_the_new_options() -> None:
    import argparse

    from core.cli import train_cmd

    parser = argparse.ArgumentParser()
    train_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["train", "--run-dir", "r", "--extra-data", "a", "--extra-data", "b",
                              "--extra-repeats", "1,8", "--holdout", "*c5*", "--rare-threshold", "0.3",
                              "--rare-crop-prob", "0.5", "--painted-share", "0.4", "--modulation", "clade",
                              "--input-encoding", "onehot"])
    cfg: RunConfig = train_cmd.build_config(args)
    assert cfg.data.extra_repeats == (1, 8) and cfg.data.holdout == ("*c5*",)
    assert (cfg.data.rare_threshold, cfg.data.rare_crop_prob, cfg.data.painted_share) == (0.3, 0.5, 0.4)
    assert cfg.generator.modulation == "clade"
