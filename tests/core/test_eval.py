"""core.eval: FCN-score maths, the segmenter file, the checkerboard index, `roadstudio-cli eval`
end to end on a tiny CamVid-shaped folder, and the realism hook of the training loop."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from core.weights.checkpoints import save_weights
from core.cli import main
from core.config import GeneratorConfig
from core.data.camvid_classes import CAMVID11_TO_LABEL_ID
from core.errors import CheckpointError
from core.eval import realism as realism_mod
from core.eval.checkerboard import PERIODS, checkerboard_score
from core.eval.classes import CLASS_IDS, CLASS_NAMES, IGNORE, NUM_CLASSES, ids_to_classes
from core.eval.evaluate import flat_colours
from core.eval.scores import confusion, scores_from_confusion
from core.eval.segmenter import Segmenter, save_segmenter, work_size
from core.eval.segnet import RoadSegNet, SegNetConfig
from core.labels import ID_TO_COLOR, PALETTE_COLORS, PALETTE_IDS
from core.models import build_generator
from core.train.events import CheckpointSaved, Validation
from core.train.loop import train

from tests.core.train_helpers import spread_batchnorm_stats, tiny_config, tiny_sources

SHARED_CAMVID = Path(__file__).resolve().parents[3] / "shared" / "data" / "camvid"


# ------------------------------------------------------------------------------------ scores


def test_confusion_and_scores_exact() -> None:
    truth = np.array([[0, 0, 1], [1, 1, 2], [IGNORE, 2, 0]], np.uint8)
    pred = np.array([[0, 1, 1], [1, 1, 2], [5, 7, 0]], np.uint8)
    m = confusion(truth, pred)
    assert m.sum() == 8  # the IGNORE pixel counts nowhere
    expected = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    expected[0, 0], expected[0, 1], expected[1, 1], expected[2, 2], expected[2, 7] = 2, 1, 3, 1, 1
    np.testing.assert_array_equal(m, expected)
    s = scores_from_confusion(m)
    assert s.pixel_acc == pytest.approx(float(Fraction(6, 8)), abs=1e-12)
    # recall: class 0 2/3, class 1 3/3, class 2 1/2
    assert s.class_acc == pytest.approx(float((Fraction(2, 3) + 1 + Fraction(1, 2)) / 3), abs=1e-12)
    # IoU: 0: 2/(3+2-2), 1: 3/(3+4-3), 2: 1/(2+1-1); class 7 is predicted but absent: not averaged
    assert s.miou == pytest.approx(float((Fraction(2, 3) + Fraction(3, 4) + Fraction(1, 2)) / 3), abs=1e-12)
    assert s.per_class_iou[CLASS_NAMES[7]] is None and s.per_class_iou[CLASS_NAMES[2]] == pytest.approx(0.5)
    assert s.pixels == 8


def test_scores_with_given_present_classes_and_perfect_prediction() -> None:
    truth = np.array([0, 3, 3, 10], np.uint8)
    m = confusion(truth, truth)
    s = scores_from_confusion(m)
    assert (s.pixel_acc, s.class_acc, s.miou) == (1.0, 1.0, 1.0)
    present = np.zeros(NUM_CLASSES, bool)
    present[[0, 3, 10, 4]] = True  # class 4 present in the split but never in these pixels: IoU 0
    s2 = scores_from_confusion(m, present=present)
    assert s2.miou == pytest.approx(0.75) and s2.class_acc == pytest.approx(0.75)


def test_confusion_rejects_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="shape"):
        confusion(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8))


def test_class_table_folds_onto_the_camvid_classes() -> None:
    # the 11 CamVid classes (via the data source's own table) are exactly the segmenter's classes
    mapped = {v for v in CAMVID11_TO_LABEL_ID.values() if v != 0}
    assert mapped == set(CLASS_IDS)
    ids = np.array([7, 28, 12, 0, 1, 19, 33], np.uint8)  # road, bus, wall, unlabeled, ego, light, bicycle
    names = [CLASS_NAMES[c] if c != IGNORE else None for c in ids_to_classes(ids)]
    assert names == ["road", "car", "building", None, None, "traffic sign", "rider"]


# ------------------------------------------------------------------------------------ segmenter


def _tiny_segmenter(seed: int = 0, work_area: int = 32 * 48) -> RoadSegNet:
    torch.manual_seed(seed)
    model = RoadSegNet(SegNetConfig(width=4, work_area=work_area))
    with torch.no_grad():  # non-trivial running stats, so a round trip that drops them shows
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                spread_batchnorm_stats(m, 0.5, (0.5, 2.0))
    return model.eval()


def test_segmenter_round_trip_bit_exact(tmp_path: Path) -> None:
    model = _tiny_segmenter()
    path = save_segmenter(tmp_path / "seg.safetensors", model, {"note": "test"})
    loaded = Segmenter.load(path)
    saved, reread = model.state_dict(), loaded.model.state_dict()
    assert saved.keys() == reread.keys()
    for key in saved:
        assert torch.equal(saved[key], reread[key]), key
    assert loaded.card == {"note": "test"}
    assert loaded.model.config == model.config
    rng = np.random.default_rng(0)
    photos = rng.integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
    assert loaded.work_size(48, 64) == (32, 48)
    with torch.no_grad():  # what predict_ids must do: resize in, original net, logits back, argmax
        x = torch.nn.functional.interpolate(torch.from_numpy(photos).permute(0, 3, 1, 2).float(), size=(32, 48),
                                            mode="bilinear", align_corners=False, antialias=True)
        logits = torch.nn.functional.interpolate(model(x), size=(48, 64), mode="bilinear", align_corners=False)
    expected = np.asarray(CLASS_IDS, np.uint8)[logits.argmax(dim=1).numpy()]
    np.testing.assert_array_equal(loaded.predict_ids(photos), expected)


def test_segmenter_load_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such segmenter"):
        Segmenter.load(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(CheckpointError, match="not a readable"):
        Segmenter.load(junk)
    generator = tmp_path / "gen.safetensors"
    save_weights(generator, build_generator(GeneratorConfig(depth=3, ngf=4)), GeneratorConfig(depth=3, ngf=4))
    with pytest.raises(CheckpointError, match="not a Road Studio segmenter"):
        Segmenter.load(generator)
    # right config, wrong tensors
    path = save_segmenter(tmp_path / "seg.safetensors", _tiny_segmenter())
    state = load_file(str(path))
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata()
    state.pop("head.weight")
    save_file(state, str(tmp_path / "cut.safetensors"), metadata=meta)
    with pytest.raises(CheckpointError, match="do not fit"):
        Segmenter.load(tmp_path / "cut.safetensors")


def test_work_size() -> None:
    assert work_size(360, 480) == (240, 320)
    assert work_size(1024, 2048) == (192, 384)
    h, w = work_size(100, 100)
    assert h == w and h % 16 == 0


# ------------------------------------------------------------------------------------ checkerboard


def _natural_image(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    """Noise with a 1/f amplitude spectrum (like photos), per channel, uint8."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1.0
    out = np.empty((h, w, 3))
    for c in range(3):
        spectrum = (rng.normal(size=(h, w)) + 1j * rng.normal(size=(h, w))) / f
        img = np.fft.ifft2(spectrum).real
        out[..., c] = (img - img.mean()) / img.std()
    return np.clip(128 + 40 * out, 0, 255).astype(np.uint8)


def _with_grid(image: np.ndarray, period: int, amplitude: float) -> np.ndarray:
    y, x = np.mgrid[: image.shape[0], : image.shape[1]]
    grid = (((y % period) < period // 2) ^ ((x % period) < period // 2)).astype(np.float64) - 0.5
    return np.clip(image.astype(np.float64) + 2 * amplitude * grid[..., None], 0, 255).astype(np.uint8)


def test_checkerboard_grid_scores_far_above_clean_image() -> None:
    clean = _natural_image()
    base = checkerboard_score(clean)
    assert 0.7 < base.index < 1.4, base
    gridded = checkerboard_score(_with_grid(clean, 4, amplitude=3.0))  # ±3 grey levels: faint
    assert gridded.index > 3 * base.index
    assert gridded.per_period[4] > 10 * base.per_period[4]
    assert gridded.per_period[4] == max(gridded.per_period.values())
    # a period-8 grid lifts period 8 (and its harmonics), not period 32
    grid8 = checkerboard_score(_with_grid(clean, 8, amplitude=3.0))
    assert grid8.per_period[8] > 4 * base.per_period[8]
    assert grid8.per_period[32] < 2 * base.per_period[32]
    assert set(base.per_period) == set(PERIODS)


def test_checkerboard_flat_image_is_one_and_tiny_image_is_refused() -> None:
    flat = np.full((64, 64, 3), 90, np.uint8)
    assert checkerboard_score(flat).index == pytest.approx(1.0)
    with pytest.raises(ValueError, match="too small"):
        checkerboard_score(np.zeros((4, 40, 3), np.uint8))


@pytest.mark.shared_data
def test_checkerboard_real_photos_near_one() -> None:
    if not (SHARED_CAMVID / "test").is_dir():
        pytest.skip(f"shared CamVid data not found at {SHARED_CAMVID}")
    photos = sorted((SHARED_CAMVID / "test").glob("*.png"))[::40][:6]
    scores = [checkerboard_score(np.asarray(Image.open(p).convert("RGB"))).index for p in photos]
    assert 0.8 < float(np.mean(scores)) < 1.5, scores


# ------------------------------------------------------------------------------------ realism


class ColourOracle:
    """A stand-in segmenter that reads the class off palette colours exactly (anything else is
    'road'): flat class colours are a perfect rendering for it."""

    def classes(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        lut = {tuple(c): ids_to_classes(np.array([i], np.uint8))[0] for c, i in zip(PALETTE_COLORS, PALETTE_IDS,
                                                                                        strict=True)}
        flat = images.reshape(-1, 3)
        out = np.array([lut.get(tuple(px), 0) for px in flat], np.uint8)
        out[out == IGNORE] = 0
        return out.reshape(images.shape[:-1])


def _scene(h: int = 12, w: int = 16) -> np.ndarray:
    ids = np.full((h, w), 23, np.uint8)  # sky
    ids[h // 3:] = 11  # building
    ids[2 * h // 3:] = 7  # road
    ids[-3:, :4] = 26  # car
    return ids


def test_realism_score_perfect_and_wrong() -> None:
    ids = np.stack([_scene(), _scene()[:, ::-1].copy()])
    perfect = realism_mod.realism_score(flat_colours(ids), ids, ColourOracle())  # type: ignore[arg-type]
    assert perfect == {"pixel_acc": 1.0, "class_acc": 1.0, "miou": 1.0}
    grey = np.full(ids.shape + (3,), 128, np.uint8)  # -> all road for the oracle
    wrong = realism_mod.realism_score(grey, ids, ColourOracle())  # type: ignore[arg-type]
    road_share = float((ids == 7).mean())
    assert wrong["pixel_acc"] == pytest.approx(road_share)
    assert wrong["class_acc"] == pytest.approx(1 / 4)  # 4 classes present, only road recalled
    with pytest.raises(ValueError, match="none of the classes"):
        realism_mod.realism_score(grey[:1], np.zeros_like(ids[:1]), ColourOracle())  # type: ignore[arg-type]


def test_realism_tracker_uses_the_first_pairs_and_scores_the_real_photos_once() -> None:
    tracker = realism_mod.RealismTracker(ColourOracle(), pairs=3)  # type: ignore[arg-type]
    ids = torch.from_numpy(np.stack([_scene()] * 2))
    flat = torch.from_numpy(flat_colours(ids.numpy())).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    grey = torch.zeros_like(flat)
    tracker.add(ids, flat, flat)  # perfect renderings, real photos = flat colours (perfect)
    tracker.add(ids, grey, flat)  # only its first pair counts (3 pairs in all)
    tracker.add(ids, grey, flat)  # ignored
    result = tracker.result()
    assert result is not None and result["real_miou"] == 1.0
    road_share = float((ids[0].numpy() == 7).mean())
    assert result["pixel_acc"] == pytest.approx((2 + road_share) / 3)
    assert realism_mod.to_uint8_images(flat).tolist() == flat_colours(ids.numpy()).tolist()


def test_realism_applies_only_to_real_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(realism_mod, "segmenter_available", lambda path=None: True)
    assert not realism_mod.realism_applies("synthetic", "auto")
    assert not realism_mod.realism_applies("data/x", "synthetic")
    assert realism_mod.realism_applies("data/camvid", "auto")
    assert realism_mod.realism_applies("data/camvid", "auto", (256, 256))
    assert not realism_mod.realism_applies("data/camvid", "auto", (32, 256))  # thumbnails: not judged
    monkeypatch.setattr(realism_mod, "segmenter_available", lambda path=None: False)
    assert not realism_mod.realism_applies("data/camvid", "auto")


class _ScriptedTracker:
    """Realism values in a fixed order, one per validation; counts the pairs it was shown."""

    def __init__(self, values: list[float]) -> None:
        self.values = list(values)
        self.pairs_seen = 0

    def add(self, label_ids: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> None:
        assert fake.shape[0] == label_ids.shape[0] and fake.min() >= -1 and fake.max() <= 1
        self.pairs_seen += int(fake.shape[0])

    def result(self) -> dict[str, float]:
        v = self.values.pop(0)
        return {"miou": v, "pixel_acc": v + 0.1, "class_acc": v + 0.05, "real_miou": 0.9}


def test_training_validation_carries_realism_and_best_follows_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  one_torch_thread: None) -> None:
    import core.train.loop as loop

    scripted = [0.30, 0.50, 0.40]
    tracker = _ScriptedTracker(scripted)
    monkeypatch.setattr(loop, "_realism_tracker", lambda cfg, warnings, own_data: tracker)
    cfg = tiny_config(size=32, depth=3, ngf=4, ndf=4, epochs=2, epochs_decay=1, checkpoint_every=100,
                      sample_every=100)
    events = list(train(cfg, tmp_path / "run", sources=tiny_sources(count=4, val=2)))
    vals = [e for e in events if isinstance(e, Validation)]
    assert [v.realism for v in vals] == scripted
    assert [v.is_best for v in vals] == [True, True, False]  # by realism, whatever L1 did
    assert vals[1].realism_pixel_acc == pytest.approx(0.6) and vals[1].realism_real == 0.9
    assert tracker.pairs_seen == 2 * 3
    best = [e for e in events if isinstance(e, CheckpointSaved) and e.reason == "best"]
    assert [b.step for b in best] == [vals[0].step, vals[1].step]
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert state["best_realism"] == pytest.approx(0.50)
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    logged = [x for x in lines if x["kind"] == "validation"]
    assert [x["realism"] for x in logged] == scripted


def test_training_on_given_pairs_has_no_realism_and_keeps_l1_best(tmp_path: Path,
                                                                   one_torch_thread: None) -> None:
    import core.train.loop as loop

    warnings: list[str] = []
    assert loop._realism_tracker(tiny_config(), warnings, own_data=False) is None and not warnings
    cfg = tiny_config(size=32, depth=3, ngf=4, ndf=4, epochs=2, epochs_decay=1, checkpoint_every=100,
                      sample_every=100)
    events = list(train(cfg, tmp_path / "run", sources=tiny_sources(count=4, val=2)))
    vals = [e for e in events if isinstance(e, Validation)]
    assert len(vals) == 3 and all(v.realism is None for v in vals)
    best: float | None = None
    for v in vals:  # the lowest L1 so far, as before realism existed
        assert v.is_best == (best is None or v.l1 < best)
        best = v.l1 if v.is_best else best


# ------------------------------------------------------------------------------------ eval CLI


def _camvid_fixture(root: Path, n_test: int = 3, size: tuple[int, int] = (36, 48)) -> Path:
    """A CamVid SegNet-layout folder: train/ trainannot/ test/ testannot/, 11-class index PNGs."""
    raw_of = {v: k for k, v in CAMVID11_TO_LABEL_ID.items()}
    rng = np.random.default_rng(0)
    for split, count in (("train", 1), ("test", n_test)):
        (root / split).mkdir(parents=True)
        (root / f"{split}annot").mkdir()
        for i in range(count):
            ids = _scene(*size)
            ids = np.roll(ids, i * 3, axis=1)
            raw = np.vectorize(raw_of.get)(ids).astype(np.uint8)
            photo = np.clip(ID_TO_COLOR[ids].astype(np.int16) + rng.integers(-20, 21, ids.shape + (3,)), 0, 255)
            Image.fromarray(photo.astype(np.uint8)).save(root / split / f"f{i}.png")
            Image.fromarray(raw).save(root / f"{split}annot" / f"f{i}.png")
    return root


@pytest.fixture
def eval_files(tmp_path: Path) -> dict[str, Path]:
    data = _camvid_fixture(tmp_path / "camvid")
    config = GeneratorConfig(depth=3, ngf=4)
    torch.manual_seed(0)
    generator = save_weights(tmp_path / "gen.safetensors", build_generator(config), config)
    segmenter = save_segmenter(tmp_path / "seg.safetensors", _tiny_segmenter())
    return {"data": data, "gen": generator, "seg": segmenter, "tmp": tmp_path}


def _eval(files: dict[str, Path], *extra: str) -> list[str]:
    return ["eval", "--checkpoint", str(files["gen"]), "--data", str(files["data"]),
            "--segmenter", str(files["seg"]), "--device", "cpu", *extra]


def test_eval_cli_end_to_end(eval_files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                             one_torch_thread: None) -> None:
    out_json = eval_files["tmp"] / "report.json"
    code = main(_eval(eval_files, "--size", "32x48", "--json", str(out_json)))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    for text in ("pixel accuracy", "mean class accuracy", "mean IoU", "checkerboard index", "generated/real",
                 "3 pairs at 32×48"):
        assert text in captured.out
    report = json.loads(out_json.read_text())
    assert report["pairs"] == 3 and report["split"] == "test"
    assert set(report["present_classes"]) == {"road", "building", "sky", "car"}
    res = report["results"]
    assert res["real"]["l1"] is None and res["generated"]["l1"] is not None
    for kind in ("generated", "real", "flat"):
        assert 0.0 <= res[kind]["miou"] <= res[kind]["pixel_acc"] + 1.0
        assert res[kind]["per_class_iou"]["person"] is None  # absent from the ground truth
    # the flat image's L1 against the photo, recomputed here from the files
    from core.data.camvid import CamVidSource
    from core.eval.evaluate import resize_pair

    source = CamVidSource(eval_files["data"], "test")
    l1s = []
    for i in range(len(source)):
        ids, photo = resize_pair(*source[i], (32, 48))
        l1s.append(np.abs(flat_colours(ids).astype(np.float64) - photo.astype(np.float64)).mean() / 127.5)
    assert res["flat"]["l1"] == pytest.approx(float(np.mean(l1s)), abs=1e-5)
    ratio = report["ratio_generated_to_real"]["pixel_acc"]
    if res["real"]["pixel_acc"] > 0:
        assert ratio == pytest.approx(res["generated"]["pixel_acc"] / res["real"]["pixel_acc"])


def test_eval_cli_limit_and_default_size(eval_files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                         one_torch_thread: None) -> None:
    out_json = eval_files["tmp"] / "r.json"
    assert main(_eval(eval_files, "--limit", "1", "--json", str(out_json))) == 0
    report = json.loads(out_json.read_text())
    # the tiny segmenter's working area is 32×48 pixels: a 36×48 frame is looked at as 32×48
    assert report["pairs"] == 1 and report["size"] == "32×48"


def test_eval_cli_named_errors(eval_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    tmp = eval_files["tmp"]
    cases = [
        (["eval", "--checkpoint", str(tmp / "nope.safetensors"), "--data", str(eval_files["data"]),
          "--segmenter", str(eval_files["seg"])], "no such file"),
        (_eval(eval_files, "--split", "nosuch"), "no split 'nosuch'"),
        (["eval", "--checkpoint", str(eval_files["gen"]), "--data", str(tmp / "missing"),
          "--segmenter", str(eval_files["seg"])], "no such folder"),
        (_eval(eval_files, "--segmenter", str(tmp / "noseg.safetensors")), "no such segmenter"),
        (_eval(eval_files, "--limit", "0"), "--limit"),
    ]
    notdata = tmp / "notdata"
    notdata.mkdir()
    (notdata / "readme.txt").write_text("hello")
    cases.append((["eval", "--checkpoint", str(eval_files["gen"]), "--data", str(notdata),
                   "--segmenter", str(eval_files["seg"])], "not a dataset"))
    (eval_files["data"] / "val").mkdir()
    (eval_files["data"] / "valannot").mkdir()
    cases.append((_eval(eval_files, "--split", "val"), "holds no pairs"))
    for argv, message in cases:
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert message in err, (message, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_training_on_a_real_folder_scores_realism_with_the_bundled_segmenter(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], one_torch_thread: None) -> None:
    if not realism_mod.segmenter_available():
        pytest.skip("resources/models/segmenter.safetensors is not installed")
    data = tmp_path / "camvid"
    _camvid_fixture(data, n_test=0, size=(64, 80))
    for i in range(1, 4):  # 4 training frames (the fixture wrote f0)
        for sub in ("train", "trainannot"):
            (data / sub / f"g{i}.png").write_bytes((data / sub / "f0.png").read_bytes())
    run = tmp_path / "run"
    code = main(["train", "--data", str(data), "--run-dir", str(run), "--depth", "3", "--ngf", "4", "--ndf", "4",
                 "--d-layers", "2", "--crop-size", "64", "--load-size", "64", "--batch-size", "2", "--device", "cpu",
                 "--val-fraction", "0.25", "--epochs", "1", "--epochs-decay", "0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    vals = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    vals = [v for v in vals if v["kind"] == "validation"]
    assert len(vals) == 1 and vals[0]["is_best"]
    v = vals[0]
    assert 0.0 <= v["realism"] <= 1.0 and 0.0 <= v["realism_real"] <= 1.0
    assert 0.0 <= v["realism_pixel_acc"] <= 1.0 and 0.0 <= v["realism_class_acc"] <= 1.0
    assert "realism" in out.out + out.err  # the CLI's validation line


def test_eval_names_what_each_segmenter_can_judge(eval_files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                                  one_torch_thread: None) -> None:
    # camvid11 (the default judge): its 11 classes listed, the other 8 brushes named as not judged
    assert main(_eval(eval_files, "--size", "32x48")) == 0
    out = capsys.readouterr().out
    assert "cannot judge (no class of its own in this segmenter): wall, traffic light, terrain, truck, bus, train, " \
           "motorcycle, bicycle" in out
    iou_rows = out.split("IoU per class", 1)[1].split("cannot judge", 1)[0]
    assert [line.split()[0] for line in iou_rows.strip().splitlines()[1:]] == [n.split()[0] for n in CLASS_NAMES]
    # a 19-class segmenter: every brush has a row, nothing is left unjudged
    from core.eval.classes import CITY19
    from core.eval.segnet import ContextSegNet

    torch.manual_seed(0)
    seg19 = save_segmenter(eval_files["tmp"] / "seg19.safetensors",
                           ContextSegNet(SegNetConfig(num_classes=19, width=4, work_area=32 * 48, arch="context")),
                           {}, CITY19)
    out_json = eval_files["tmp"] / "r19.json"
    args = _eval(eval_files, "--size", "32x48", "--json", str(out_json))
    args[args.index("--segmenter") + 1] = str(seg19)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "cannot judge" not in out and "(city19)" in out
    for name in ("wall", "terrain", "truck", "bus", "motorcycle"):
        assert f"  {name} " in out
    report = json.loads(out_json.read_text())
    assert report["segmenter_classes"] == list(CITY19.names) and report["cannot_judge"] == []
    assert set(report["present_classes"]) == {"road", "building", "sky", "car"}
