"""Edit mode (issue 19 §4): only what you repaint changes. The edited region and its seam, the
bit-identical outside, the "labels+photo" generator (input channels, config round trip, old
checkpoints, fold/ONNX/resume), its training (random holes, L1 lowered), and `roadstudio-cli edit`
(provenance naming the photo's SHA-256, named errors). Tiny real models and real files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from core.render import provenance
from core.weights.checkpoints import LoadedGenerator, load_weights, save_weights
from core.cli import main
from core.config import GeneratorConfig, RunConfig, load_run_config, save_run_config
from core.edit import training as photo_edit
from core.edit.editor import CloneRenderer, EditError, PasteRenderer, PhotoEditor, PhotoEditRenderer
from core.edit.masks import dilate, edited_region, feather
from core.models.encoding import encode_input
from core.eval.classes import CITY19

from core.eval.segmenter import save_segmenter
from core.eval.segnet import ContextSegNet, SegNetConfig
from core.io.imageio import write_label_ids_png
from core.render.infer import Predictor
from core.models import UNetGenerator, build_discriminator, build_generator
from core.photo_labels.segment import PhotoSegmenter
from core.train.events import Finished, Step, Validation
from core.train.loop import train
from tests.core.test_checkpoint_state import assert_identical

from .train_helpers import BUILDING, CAR, ROAD, SKY, VEGETATION, of, one_torch_thread, straight_and_resumed, \
    tiny_config, tiny_sources

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)


def _scene(h: int = 96, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A street label map and a textured photo of it."""
    ids = np.full((h, w), SKY, np.uint8)
    ids[h // 4: h // 2] = BUILDING
    ids[h // 2:] = ROAD
    ids[h // 2: h * 3 // 4, w // 3: w // 2] = CAR
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return ids, photo


def _trained_like(cfg: GeneratorConfig, seed: int = 0) -> UNetGenerator:
    torch.manual_seed(seed)
    g = build_generator(cfg).train()
    with torch.no_grad():  # real BatchNorm running statistics
        for _ in range(2):
            g(torch.randn(2, cfg.input_nc, 2 ** cfg.depth * 2, 2 ** cfg.depth * 2))
    return g.eval()


def _predictor(cfg: GeneratorConfig) -> Predictor:
    loaded = LoadedGenerator(model=_trained_like(cfg), config=cfg, card={}, path=Path("tiny.safetensors"))
    return Predictor(loaded, "cpu", backend="eager")


def _first_conv(net: torch.nn.Module) -> torch.nn.Conv2d:
    return next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))


PHOTO_CFG = GeneratorConfig(depth=3, ngf=4, upsample="resize", condition="labels+photo")
LABEL_CFG = GeneratorConfig(depth=3, ngf=4, upsample="resize")


# ------------------------------------------------------------------------------ region, seam, outside


def test_edited_region_is_where_labels_differ_dilated_and_feathered_inside_its_border() -> None:
    ids, _ = _scene()
    edited = ids.copy()
    edited[ids == CAR] = ROAD  # the car becomes road
    mask = edited_region(ids, edited)
    assert np.array_equal(mask, ids == CAR)
    region = dilate(mask, 6)
    rows, cols = np.nonzero(mask)
    # a 3×3-step dilation: the bounding box grows by exactly 6 px on every side
    r2, c2 = np.nonzero(region)
    assert (r2.min(), r2.max(), c2.min(), c2.max()) == (rows.min() - 6, rows.max() + 6, cols.min() - 6, cols.max() + 6)
    alpha = feather(region, 4)
    assert (alpha[~region] == 0).all() and (alpha[mask] == 1).all()
    band = region & (alpha < 1)
    assert band.any() and (alpha[band] > 0).all()  # the seam: a ramp inside the region's border
    assert alpha[rows.min() - 6, cols.min() + 3] == pytest.approx(1 / 5)  # the outermost ring
    with pytest.raises(ValueError, match="must match"):
        edited_region(ids, edited[:-1])


@pytest.mark.parametrize("renderer", ["photo-edit", "paste", "clone"])
def test_edit_is_bit_identical_to_the_photo_outside_the_dilated_region(renderer: str) -> None:
    ids, photo = _scene()
    edited = ids.copy()
    edited[30:50, 100:130] = VEGETATION  # a hedge on the building
    made = (PhotoEditRenderer(_predictor(PHOTO_CFG)) if renderer == "photo-edit"
            else CloneRenderer(_predictor(LABEL_CFG)) if renderer == "clone" else PasteRenderer(_predictor(LABEL_CFG)))
    editor = PhotoEditor(made)
    result = editor.render(photo, ids, edited)
    assert result.image.dtype == np.uint8 and result.image.shape == photo.shape
    assert np.array_equal(result.region, dilate(result.mask, editor.dilation))
    outside = ~result.region
    assert np.array_equal(result.image[outside], photo[outside])  # exact, byte for byte
    # inside, the rendering replaced the (random-noise) photo
    assert (result.image[result.mask] != photo[result.mask]).any(axis=1).mean() > 0.9
    assert result.box is not None
    assert result.renderer == renderer and result.changed


def test_no_edit_gives_the_photo_itself_and_bad_arrays_are_named() -> None:
    ids, photo = _scene()
    editor = PhotoEditor(PhotoEditRenderer(_predictor(PHOTO_CFG)))
    same = editor.render(photo, ids, ids.copy())
    assert np.array_equal(same.image, photo) and same.box is None and not same.changed
    with pytest.raises(EditError, match="edited label map is 160×95"):
        editor.render(photo, ids, ids[:-1])
    with pytest.raises(EditError, match="photo must be a uint8 H×W×3"):
        editor.render(photo.astype(np.float32), ids, ids)
    with pytest.raises(EditError, match="not a photo-edit model"):
        PhotoEditRenderer(_predictor(LABEL_CFG))


def test_a_small_edit_renders_only_a_crop_around_it_with_context() -> None:
    ids, photo = _scene(256, 512)
    edited = ids.copy()
    edited[150:170, 40:70] = VEGETATION
    editor = PhotoEditor(PhotoEditRenderer(_predictor(GeneratorConfig(depth=5, ngf=4, upsample="resize",
                                                                       condition="labels+photo"))))
    region = dilate(edited_region(ids, edited), editor.dilation)  # rows 144..175, columns 34..75
    box = editor.crop_for(region)
    # bounding box + 32 px of context on each side, up to the model's multiple (32): 96×106 -> 96×128
    assert box is not None and (box.height, box.width) == (96, 128) and box.left == 0
    assert box.top <= 144 - 32 and box.bottom >= 176 + 32
    result = editor.render(photo, ids, edited)
    assert result.box == box
    assert np.array_equal(result.image[~region], photo[~region])


# --------------------------------------------------------------------- the conditioned generator


def test_photo_conditioned_generator_takes_labels_masked_photo_and_hole() -> None:
    assert PHOTO_CFG.input_nc == 20 + 4 and LABEL_CFG.input_nc == 20
    assert GeneratorConfig(input_encoding="color", condition="labels+photo").input_nc == 3 + 4
    g = build_generator(PHOTO_CFG)
    assert _first_conv(g).in_channels == 24
    from core.config import DiscriminatorConfig

    assert _first_conv(build_discriminator(DiscriminatorConfig(ndf=4), PHOTO_CFG)).in_channels == 24 + 3
    ids, photo = _scene(32, 32)
    rgb = torch.from_numpy(photo).permute(2, 0, 1).float() / 127.5 - 1
    hole = torch.zeros(1, 32, 32)
    hole[:, 8:16, 8:16] = 1
    x = encode_input(ids, PHOTO_CFG, rgb, hole)
    assert x.shape == (24, 32, 32)
    assert torch.equal(x[23], hole[0]) and (x[20:23, 8:16, 8:16] == 0).all()
    assert torch.equal(x[20:23, 0:8], rgb[:, 0:8])
    no_photo = encode_input(ids, PHOTO_CFG)  # render from the labels alone: all hole
    assert (no_photo[23] == 1).all() and (no_photo[20:23] == 0).all()
    assert torch.equal(encode_input(ids, LABEL_CFG), no_photo[:20])


def test_condition_round_trips_through_toml_and_weights_and_old_files_load_as_labels(tmp_path: Path) -> None:
    cfg = tiny_config()
    cfg = cfg.replace(generator=dataclasses.replace(cfg.generator, condition="labels+photo"))
    save_run_config(cfg, tmp_path / "config.toml")
    assert load_run_config(tmp_path / "config.toml").generator.condition == "labels+photo"
    g = _trained_like(PHOTO_CFG)
    loaded = load_weights(save_weights(tmp_path / "pe.safetensors", g, PHOTO_CFG, {"run": "t"}))
    assert loaded.config == PHOTO_CFG
    # A checkpoint written before the setting existed: its metadata has no "condition".
    old = _trained_like(LABEL_CFG)
    meta_cfg = {k: v for k, v in dataclasses.asdict(LABEL_CFG).items() if k != "condition"}
    save_file({k: v.contiguous() for k, v in old.state_dict().items()}, str(tmp_path / "old.safetensors"),
              metadata={"roadstudio.format": "1", "roadstudio.generator": json.dumps(meta_cfg),
                        "roadstudio.card": "{}"})
    again = load_weights(tmp_path / "old.safetensors")
    assert again.config.condition == "labels" and again.config.input_nc == 20
    x = encode_input(_scene(32, 32)[0][None], LABEL_CFG)
    with torch.no_grad():
        assert torch.equal(again.model(x), old(x))


def test_presets_photo_edit_and_the_old_ones_keep_labels_only() -> None:
    from core.train.presets import preset_config

    pe = preset_config("photo-edit")
    assert pe.generator.condition == "labels+photo"
    assert (pe.generator.ngf, pe.generator.depth, pe.data.crop_size) == (16, 7, (128, 128))
    assert any("cityscapes-seq" in p for p in pe.data.extra_paths) and pe.data.holdout == ("*aachen_000005_*",)
    assert pe.data.train_splits == ("train", "val") and pe.data.path.endswith("camvid")
    for name in ("paper", "default-model", "every-brush", "quick-cpu"):
        assert preset_config(name).generator.condition == "labels"


def test_photo_edit_generator_folds_exports_and_predicts_from_labels_alone(tmp_path: Path) -> None:
    from core.render.fast.fold import fold_batchnorm

    g = _trained_like(PHOTO_CFG)
    ids, photo = _scene(32, 48)
    rgb = torch.from_numpy(photo).permute(2, 0, 1).float()[None] / 127.5 - 1
    hole = torch.zeros(1, 1, 32, 48)
    hole[..., 4:20, 10:30] = 1
    x = encode_input(ids[None], PHOTO_CFG, rgb, hole)
    with torch.no_grad():
        expected = g(x)
        assert float((fold_batchnorm(g)(x) - expected).abs().max()) < 1e-4
    # Predictor.predict (labels only) = the all-hole input
    pred = Predictor(LoadedGenerator(g, PHOTO_CFG, {}, tmp_path / "g.safetensors"), "cpu", backend="eager")
    out = pred.predict(ids)
    with torch.no_grad():
        ref = g(encode_input(ids[None], PHOTO_CFG))
    assert np.abs(out.astype(int) - ((ref[0].clamp(-1, 1) + 1) * 127.5).round().permute(1, 2, 0).numpy()).max() <= 1
    pytest.importorskip("onnxruntime")
    from core.weights.onnx_export import export_onnx, max_abs_diff_ort, ort_session

    report = export_onnx(LoadedGenerator(g, PHOTO_CFG, {}, tmp_path / "g.safetensors"), tmp_path / "g.onnx", 32, 32)
    assert report.max_abs_diff < 1e-4
    assert max_abs_diff_ort(ort_session(tmp_path / "g.onnx"), g, x) < 1e-4  # with a photo and a hole


# ------------------------------------------------------------------------------------ training


def test_training_holes_are_seeded_nonempty_and_follow_objects() -> None:
    ids = torch.from_numpy(np.stack([_scene(64, 64)[0]] * 8))
    a = photo_edit.training_holes(ids, seed=3, rank=0, step=5)
    assert a.shape == (8, 1, 64, 64) and set(torch.unique(a).tolist()) <= {0.0, 1.0}
    assert torch.equal(a, photo_edit.training_holes(ids, seed=3, rank=0, step=5))
    assert not torch.equal(a, photo_edit.training_holes(ids, seed=3, rank=0, step=6))
    assert (a.flatten(1).sum(1) > 0).all()
    scene = _scene(64, 64)[0]
    rng = np.random.default_rng(0)
    for _ in range(10):
        hole = photo_edit.object_hole(scene, rng)
        assert hole is not None
        # one class's connected region, dilated by at most 6 px: it touches exactly one region's core
        assert hole.any() and hole.mean() < 0.9


def _photo_edit_config(**kw: object) -> RunConfig:
    base = tiny_config(size=32, depth=3, ngf=8, ndf=8, **kw)  # type: ignore[arg-type]
    return base.replace(generator=dataclasses.replace(base.generator, condition="labels+photo", upsample="resize"))


def test_a_short_photo_edit_run_lowers_the_hole_l1(tmp_path: Path) -> None:
    cfg = _photo_edit_config(epochs=12, epochs_decay=0, batch_size=2, checkpoint_every=100, sample_every=100,
                             lr=1e-3)
    events = list(train(cfg, tmp_path / "run", sources=tiny_sources(count=4, val=2, size=32)))
    assert isinstance(events[-1], Finished), events[-1]
    steps = of(events, Step)
    assert set(steps[0].losses) == {"G_GAN", "G_L1", "D_real", "D_fake"}
    first = np.mean([s.losses["G_L1"] for s in steps[:4]])
    last = np.mean([s.losses["G_L1"] for s in steps[-4:]])
    assert last < 0.7 * first, (first, last)
    vals = of(events, Validation)
    assert vals[-1].l1 < vals[0].l1
    assert load_weights(tmp_path / "run/checkpoints/last.safetensors").config.condition == "labels+photo"


def test_photo_edit_run_resumes_bit_identical(tmp_path: Path) -> None:
    cfg = _photo_edit_config(epochs=2, epochs_decay=1, checkpoint_every=3, batch_size=2)
    events, cut_step, straight, resumed = straight_and_resumed(cfg, tmp_path, {"count": 5, "val": 2, "size": 32}, 4)
    assert isinstance(events[-1], Finished) and cut_step == 3
    assert_identical(straight, resumed)


# ------------------------------------------------------------------------------------------ CLI


@pytest.fixture(scope="module")
def edit_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A photo, a tiny untrained 19-class segmenter, its segmentation edited, and tiny models."""
    root = tmp_path_factory.mktemp("edit")
    torch.manual_seed(0)
    seg = ContextSegNet(SegNetConfig(num_classes=19, width=4, work_area=32 * 48, arch="context")).eval()
    seg_path = save_segmenter(root / "seg19.safetensors", seg, {"note": "test"}, CITY19)
    _, photo = _scene(64, 96)
    Image.fromarray(photo).save(root / "photo.png")
    original = PhotoSegmenter(seg_path).segment_rgb(photo)
    edited = original.copy()
    edited[10:30, 20:50] = VEGETATION if original[20, 30] != VEGETATION else BUILDING
    write_label_ids_png(root / "edited.png", edited)
    write_label_ids_png(root / "small.png", edited[:-8])
    save_weights(root / "pe.safetensors", _trained_like(PHOTO_CFG), PHOTO_CFG, {"step": 7})
    save_weights(root / "plain.safetensors", _trained_like(LABEL_CFG), LABEL_CFG, {"step": 9})
    (root / "notes.txt").write_text("not an image")
    return {"root": root, "seg": seg_path, "photo": root / "photo.png", "edited": root / "edited.png",
            "small": root / "small.png", "pe": root / "pe.safetensors", "plain": root / "plain.safetensors",
            "text": root / "notes.txt"}


def test_edit_cli_writes_the_edit_with_provenance_naming_the_photo_and_models(
        edit_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = edit_files
    out, ba = tmp_path / "out.png", tmp_path / "ba.png"
    assert main(["edit", str(f["photo"]), "--labels", str(f["edited"]), "--output", str(out), "--renderer",
                 "photo-edit", "--model", str(f["pe"]), "--segmenter", str(f["seg"]), "--before-after", str(ba)]) == 0
    assert "wrote" in capsys.readouterr().out
    record = provenance.read(out)
    assert record.get("kind") == "edit" and record.get("renderer") == "photo-edit"
    assert record.get("photo_sha256") == provenance.file_sha256(f["photo"])
    assert record.get("photo_name") == "photo.png"
    assert record.get("checkpoint_sha256") == provenance.file_sha256(f["pe"])
    assert record.get("segmenter_sha256") == provenance.file_sha256(f["seg"])
    from core.io.imageio import read_label_ids, read_rgb

    edited = read_label_ids(f["edited"])
    assert record.labels is not None and np.array_equal(record.labels, edited)
    photo, image = read_rgb(f["photo"]), read_rgb(out)
    original = PhotoSegmenter(f["seg"]).segment_rgb(photo)
    outside = ~dilate(original != edited, 6)
    assert np.array_equal(image[outside], photo[outside]) and not np.array_equal(image, photo)
    assert np.array_equal(read_rgb(ba), np.concatenate([photo, image], axis=1))
    # info names the photo and the model
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert provenance.file_sha256(f["photo"]) in text and "pe.safetensors" in text
    # the paste renderer with a label-only model
    assert main(["edit", str(f["photo"]), "--labels", str(f["edited"]), "--output", str(tmp_path / "p.png"),
                 "--renderer", "paste", "--model", str(f["plain"]), "--segmenter", str(f["seg"])]) == 0
    assert provenance.read(tmp_path / "p.png").get("renderer") == "paste"
    # and the clone renderer, the default: outside the region still the photo, bit for bit
    assert main(["edit", str(f["photo"]), "--labels", str(f["edited"]), "--output", str(tmp_path / "c.png"),
                 "--model", str(f["plain"]), "--segmenter", str(f["seg"])]) == 0
    assert provenance.read(tmp_path / "c.png").get("renderer") == "clone"
    assert np.array_equal(read_rgb(tmp_path / "c.png")[outside], photo[outside])


@pytest.mark.parametrize(("case", "message"), [
    ("missing photo", "nope.png: no such file"),
    ("photo not an image", "notes.txt"),
    ("labels missing", "gone.png"),
    ("labels wrong size", "small.png: the label map is 96×56, the photo photo.png is 96×64"),
    ("label-only model for photo-edit", "not a photo-edit model"),
    ("output not png", "must be a .png file"),
])
def test_edit_cli_bad_inputs_are_one_named_line_and_exit_2(edit_files: dict[str, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str], case: str,
                                                           message: str) -> None:
    f = edit_files
    photo, labels, out, model = str(f["photo"]), str(f["edited"]), str(tmp_path / "o.png"), str(f["pe"])
    if case == "missing photo":
        photo = str(tmp_path / "nope.png")
    elif case == "photo not an image":
        photo = str(f["text"])
    elif case == "labels missing":
        labels = str(tmp_path / "gone.png")
    elif case == "labels wrong size":
        labels = str(f["small"])
    elif case == "label-only model for photo-edit":
        model = str(f["plain"])
    elif case == "output not png":
        out = str(tmp_path / "o.jpg")
    code = main(["edit", photo, "--labels", labels, "--output", out, "--renderer", "photo-edit", "--model", model,
                 "--segmenter", str(f["seg"])])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o.png").exists()


# ----------------------------------------------------------------------------- the bundled model


def test_bundled_photo_edit_model_is_small_conditioned_and_edits_only_the_region() -> None:
    from core.io.resources import resource_path

    path = resource_path("models", "photo_edit.safetensors")
    assert path.is_file() and path.stat().st_size <= 30 * 2**20
    assert resource_path("models", "PHOTO_EDIT_CARD.md").is_file()
    loaded = load_weights(path)
    assert loaded.config.condition == "labels+photo" and (loaded.config.ngf, loaded.config.depth) == (16, 7)
    editor = PhotoEditor.load("photo-edit", backend="eager")
    assert editor.model_path == path
    ids, photo = _scene(128, 256)
    edited = ids.copy()
    edited[ids == CAR] = ROAD
    result = editor.render(photo, ids, edited)
    assert np.array_equal(result.image[~result.region], photo[~result.region])
    # the car became road-coloured: darker and greyer than the noise photo it replaced
    assert result.image[result.mask].std(axis=1).mean() < photo[result.mask].std(axis=1).mean()
