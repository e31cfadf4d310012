"""`roadstudio-cli infer`: label maps (ids or colours, files or folders) to PNG photos, with
one-line errors and exit code 2 for anything the user can fix."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from core.weights.checkpoints import save_training_state, save_weights
from core.cli import main
from core.config import DiscriminatorConfig, Encoding, GeneratorConfig
from core.io.imageio import write_color_png, write_label_ids_png
from core.render.infer import Predictor
from core.labels import PALETTE_IDS, ids_to_color
from core.models import build_discriminator, build_generator


def make_weights(path: Path, *, depth: int = 4, encoding: Encoding = "onehot", seed: int = 0) -> Path:
    """A tiny generator with weights of a trained model's scale (outputs are not flat grey)."""
    torch.manual_seed(seed)
    cfg = GeneratorConfig(depth=depth, ngf=4, input_encoding=encoding)
    model = build_generator(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel() if isinstance(m, nn.Conv2d) else m.weight[:, 0].numel()
                m.weight.normal_(0.0, 1.5 / fan_in**0.5)
    return save_weights(path, model.eval(), cfg, {"step": 11, "epoch": 2, "run": "tiny", "data": "synthetic"})


def scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blocks = rng.choice(PALETTE_IDS, size=(h // 4 + 1, w // 4 + 1))
    return np.kron(blocks, np.ones((4, 4), np.uint8))[:h, :w].astype(np.uint8)


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return make_weights(tmp_path / "tiny.safetensors")


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_infer_a_label_id_png(tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = scene(37, 70)
    write_label_ids_png(tmp_path / "a_labelIds.png", ids)
    code, out, err = _run(capsys, "infer", "--checkpoint", weights, "--input", tmp_path / "a_labelIds.png",
                          "--output", tmp_path / "out" / "a.png", "--device", "cpu")
    assert code == 0, err
    assert "wrote" in out and "70×37" in out
    photo = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    assert photo.shape == (37, 70, 3) and photo.dtype == np.uint8
    expected = Predictor.from_path(weights, "cpu").predict(ids)
    assert np.array_equal(photo, expected)
    assert photo.std() > 1


def test_colour_label_maps_are_snapped_to_the_same_ids(tmp_path: Path, weights: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ids = np.kron(scene(3, 4, seed=1), np.ones((16, 16), np.uint8))  # 48×64, flat regions like real maps
    write_label_ids_png(tmp_path / "ids.png", ids)
    Image.fromarray(ids_to_color(ids)).save(tmp_path / "colour.jpg", quality=92)  # JPEG noise
    assert _run(capsys, "infer", "--checkpoint", weights, "--input", tmp_path / "ids.png",
                "--output", tmp_path / "from_ids.png")[0] == 0
    code, out, err = _run(capsys, "infer", "--checkpoint", weights, "--input", tmp_path / "colour.jpg",
                          "--output", tmp_path / "from_colour.png")
    assert code == 0, err
    assert "color label map" in out and "snapped" in out
    a = np.asarray(Image.open(tmp_path / "from_ids.png"))
    b = np.asarray(Image.open(tmp_path / "from_colour.png"))
    # JPEG ringing may flip a few edge pixels to a neighbour class; the rest is identical
    assert (a != b).any(axis=2).mean() < 0.05


def test_a_folder_with_one_bad_file(tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "labels"
    src.mkdir()
    write_label_ids_png(src / "one.png", scene(16, 32))
    write_color_png(src / "two.png", scene(48, 16, seed=2))
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (src / "notes.txt").write_text("not an image")
    code, out, err = _run(capsys, "infer", "--checkpoint", weights, "--input", src, "--output", tmp_path / "photos")
    assert code == 2
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["one.png", "two.png"]
    assert np.asarray(Image.open(tmp_path / "photos" / "two.png")).shape == (48, 16, 3)
    assert "skipped" in err and "broken.png" in err
    assert err.strip().splitlines()[-1] == "error: 1 of 3 label maps could not be read: broken.png"
    assert "wrote 2 photo(s)" in out


def test_variation_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = make_weights(tmp_path / "d6.safetensors", depth=6)  # depth 6: one dropout level
    write_label_ids_png(tmp_path / "in.png", scene(64, 64))
    outs = {}
    for name, extra in [("plain", []), ("s1", ["--variation", "1"]), ("s1b", ["--variation", "1"]),
                        ("s2", ["--variation", "2"])]:
        assert _run(capsys, "infer", "--checkpoint", weights, "--input", tmp_path / "in.png",
                    "--output", tmp_path / f"{name}.png", *extra)[0] == 0
        outs[name] = np.asarray(Image.open(tmp_path / f"{name}.png"))
    assert np.array_equal(outs["s1"], outs["s1b"])
    assert not np.array_equal(outs["s1"], outs["s2"])
    assert not np.array_equal(outs["s1"], outs["plain"])


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


def test_bad_checkpoints_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_label_ids_png(tmp_path / "in.png", scene(16, 16))
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    evil = tmp_path / "evil.pt"
    buf = io.BytesIO()
    torch.save({"generator": _Evil()}, buf)
    evil.write_bytes(buf.getvalue())
    disc = tmp_path / "disc.pt"
    torch.save(build_discriminator(DiscriminatorConfig(ndf=4), GeneratorConfig()).state_dict(), disc)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 64)
    cases = [
        (tmp_path / "missing.safetensors", "missing.safetensors: no such file"),
        (empty, "empty.safetensors: the file is empty"),
        (evil, "evil.pt: refused to load"),
        (disc, "disc.pt: not a generator checkpoint"),
        (garbage, "garbage.safetensors: not a readable .safetensors file"),
        (tmp_path / "in.png", "unsupported checkpoint type .png"),
    ]
    for ckpt, message in cases:
        code, out, err = _run(capsys, "infer", "--checkpoint", ckpt, "--input", tmp_path / "in.png",
                              "--output", tmp_path / "o.png")
        assert code == 2, (ckpt, err)
        assert message in _one_error_line(err)
        assert "pwned" not in out
    assert not (tmp_path / "o.png").exists()


def test_bad_inputs_and_outputs(tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_label_ids_png(tmp_path / "in.png", scene(16, 16))
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(tmp_path / "photo.png")
    (tmp_path / "emptydir").mkdir()
    cases = [
        (["--input", tmp_path / "nope.png", "--output", tmp_path / "o.png"], "nope.png: no such file or folder"),
        (["--input", tmp_path / "in.png", "--output", tmp_path / "o.jpg"], "o.jpg: the output must be a .png"),
        (["--input", tmp_path / "photo.png", "--output", tmp_path / "o.png"], "does not look like a label map"),
        (["--input", tmp_path / "emptydir", "--output", tmp_path / "d"], "emptydir: the folder holds no images"),
        (["--input", tmp_path / "emptydir", "--output", tmp_path / "in.png"], "emptydir: the folder holds no images"),
    ]
    for args, message in cases:
        code, _, err = _run(capsys, "infer", "--checkpoint", weights, *args)
        assert code == 2, err
        assert message in _one_error_line(err)
    # argparse errors are user errors too
    with pytest.raises(SystemExit) as exc:
        main(["infer", "--checkpoint", str(weights), "--input", "x"])
    assert exc.value.code == 2


def test_output_into_an_existing_folder(tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_label_ids_png(tmp_path / "street.png", scene(16, 16))
    (tmp_path / "out").mkdir()
    assert _run(capsys, "infer", "--checkpoint", weights, "--input", tmp_path / "street.png",
                "--output", tmp_path / "out")[0] == 0
    assert (tmp_path / "out" / "street.png").is_file()


def test_training_checkpoint_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = GeneratorConfig(depth=3, ngf=4)
    g = build_generator(cfg)
    from core.config import to_dict

    save_training_state(tmp_path / "last.pt", {"generator": g.state_dict(), "generator_config": to_dict(cfg),
                                               "step": 5, "epoch": 1})
    write_label_ids_png(tmp_path / "in.png", scene(8, 8))
    assert _run(capsys, "infer", "--checkpoint", tmp_path / "last.pt", "--input", tmp_path / "in.png",
                "--output", tmp_path / "o.png")[0] == 0


def test_real_subprocess(tmp_path: Path, weights: Path) -> None:
    write_label_ids_png(tmp_path / "in.png", scene(24, 40))
    ok = subprocess.run([sys.executable, "-m", "core", "infer", "--checkpoint", str(weights),
                         "--input", str(tmp_path / "in.png"), "--output", str(tmp_path / "o.png")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""  # no warnings leak to the user
    assert np.asarray(Image.open(tmp_path / "o.png")).shape == (24, 40, 3)
    bad = subprocess.run([sys.executable, "-m", "core", "infer", "--checkpoint", str(tmp_path / "none.pt"),
                          "--input", str(tmp_path / "in.png"), "--output", str(tmp_path / "o2.png")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip() == f"error: {tmp_path / 'none.pt'}: no such file"


def test_folder_with_the_onnxruntime_backend(tmp_path: Path, weights: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("ROADSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "labels"
    src.mkdir()
    ids = scene(40, 40)
    write_label_ids_png(src / "a.png", ids)
    code, _, err = _run(capsys, "infer", "--checkpoint", weights, "--input", src, "--output", tmp_path / "out",
                        "--backend", "onnxruntime")
    assert code == 0, err
    assert list((tmp_path / "cache").glob("ort-*.onnx"))
    got = np.asarray(Image.open(tmp_path / "out" / "a.png")).astype(int)
    assert np.abs(got - Predictor.from_path(weights, "cpu", backend="eager").predict(ids)).max() <= 1
