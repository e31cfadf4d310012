"""`roadstudio-cli export-onnx`, `import-reference` and `info`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.weights.checkpoints import load_weights, save_training_state
from core.cli import main
from core.config import DiscriminatorConfig, GeneratorConfig, to_dict
from core.io.imageio import write_color_png
from core.models import build_discriminator, build_generator
from tests.core.test_cli_infer import make_weights, scene
from tests.core.test_reference_import import _random_reference


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_export_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("onnxruntime")
    weights = make_weights(tmp_path / "g.safetensors", depth=4)
    code, out, err = _run(capsys, "export-onnx", "--checkpoint", weights, "--output", tmp_path / "g.onnx",
                          "--height", 32, "--width", 64)
    assert code == 0, err
    assert (tmp_path / "g.onnx").is_file()
    assert "ONNX Runtime matches torch within" in out and "32×64" in out
    code, _, err = _run(capsys, "export-onnx", "--checkpoint", weights, "--output", tmp_path / "h.onnx",
                        "--height", 30)
    assert code == 2 and "multiples of 16" in _error(err)
    code, _, err = _run(capsys, "export-onnx", "--checkpoint", weights, "--output", tmp_path / "g.pt")
    assert code == 2 and "g.pt: the output must be a .onnx file" in _error(err)
    assert not (tmp_path / "h.onnx").exists()


def test_import_reference_then_info_then_infer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = _random_reference(7, "instance")
    torch.save(ref.state_dict(), tmp_path / "latest_net_G.pth")
    out_path = tmp_path / "imported.safetensors"
    code, out, err = _run(capsys, "import-reference", tmp_path / "latest_net_G.pth", "--netG", "unet_128",
                          "--norm", "instance", "--output", out_path)
    assert code == 0, err
    assert "unet_128, ngf 4, instance norm" in out
    loaded = load_weights(out_path)
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        assert float((loaded.model(x) - ref(x.clone())).abs().max()) < 1e-6

    code, out, _ = _run(capsys, "info", out_path)
    assert code == 0
    fields = {k: v.strip() for k, v in (line.split(":", 1) for line in out.strip().splitlines())}
    assert fields["norm"] == "instance" and fields["encoding"] == "color (3 channels)"
    assert fields["imported_from"] == "latest_net_G.pth" and fields["imported_as"] == "unet_128, instance norm"

    write_color_png(tmp_path / "map.png", scene(100, 60))
    code, _, err = _run(capsys, "infer", "--checkpoint", out_path, "--input", tmp_path / "map.png",
                        "--output", tmp_path / "photo.png")
    assert code == 0, err
    assert np.asarray(Image.open(tmp_path / "photo.png")).shape == (100, 60, 3)
    # the .pth itself can be used directly, naming its architecture
    code, _, err = _run(capsys, "infer", "--checkpoint", tmp_path / "latest_net_G.pth", "--reference-netG",
                        "unet_128", "--reference-norm", "instance", "--input", tmp_path / "map.png",
                        "--output", tmp_path / "photo2.png")
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "photo2.png")),
                          np.asarray(Image.open(tmp_path / "photo.png")))


def test_import_reference_refuses_wrong_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.save(_random_reference(7, "batch").state_dict(), tmp_path / "g128.pth")
    torch.save(build_discriminator(DiscriminatorConfig(ndf=4), GeneratorConfig(input_encoding="color")).state_dict(),
               tmp_path / "latest_net_D.pth")
    cases = [
        (["g128.pth", "--netG", "unet_256", "--norm", "batch"], "use --netG unet_128"),
        (["g128.pth", "--netG", "unet_128", "--norm", "instance"], "use --norm batch"),
        (["latest_net_D.pth", "--netG", "unet_256", "--norm", "batch"], "looks like a discriminator"),
        (["missing.pth", "--netG", "unet_256", "--norm", "batch"], "missing.pth: no such file"),
    ]
    for args, message in cases:
        code, _, err = _run(capsys, "import-reference", tmp_path / args[0], *args[1:],
                            "--output", tmp_path / "o.safetensors")
        assert code == 2
        assert message in _error(err)
    code, _, err = _run(capsys, "import-reference", tmp_path / "g128.pth", "--netG", "unet_128", "--norm",
                        "batch", "--output", tmp_path / "o.pt")
    assert code == 2 and "must be a .safetensors file" in _error(err)
    assert not (tmp_path / "o.safetensors").exists()


def test_info_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = make_weights(tmp_path / "g.safetensors", depth=5)
    code, out, _ = _run(capsys, "info", weights)
    assert code == 0
    fields = dict(line.split(":", 1) for line in out.strip().splitlines())
    fields = {k: v.strip() for k, v in fields.items()}
    assert fields["kind"] == "weights (.safetensors)"
    assert fields["arch"] == "U-Net"
    assert fields["depth"].startswith("5 ") and "multiples of 32" in fields["depth"]
    assert fields["ngf"] == "4" and fields["norm"] == "batch" and fields["encoding"] == "onehot (20 channels)"
    params = sum(p.numel() for p in load_weights(weights).model.parameters())
    assert fields["params"] == f"{params:,}"
    assert (fields["step"], fields["epoch"], fields["run"], fields["data"]) == ("11", "2", "tiny", "synthetic")

    code, out, _ = _run(capsys, "info", weights, "--json")
    info = json.loads(out)
    assert info["parameters"] == params and info["generator"]["depth"] == 5 and info["card"]["step"] == 11


def test_info_on_training_state_and_reference_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = GeneratorConfig(depth=3, ngf=4, norm="instance")
    save_training_state(tmp_path / "last.pt", {"generator": build_generator(cfg).state_dict(),
                                               "generator_config": to_dict(cfg), "step": 500, "epoch": 4})
    code, out, _ = _run(capsys, "info", tmp_path / "last.pt")
    assert code == 0 and "training checkpoint (.pt)" in out
    assert [line.split() for line in out.splitlines() if line.startswith("step:")] == [["step:", "500"]]
    torch.save(_random_reference(8, "batch").state_dict(), tmp_path / "latest_net_G.pth")
    code, out, _ = _run(capsys, "info", tmp_path / "latest_net_G.pth")
    assert code == 0 and "reference pix2pix generator (unet_256, batch norm" in out
    code, _, err = _run(capsys, "info", tmp_path / "nothing.safetensors")
    assert code == 2 and "nothing.safetensors: no such file" in _error(err)


def test_info_subprocess(tmp_path: Path) -> None:
    weights = make_weights(tmp_path / "g.safetensors")
    done = subprocess.run([sys.executable, "-m", "core", "info", str(weights)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "params:" in done.stdout and done.stderr == ""


def test_bench_lists_the_benchmark_scripts(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--list"]) == 0
    out = capfd.readouterr().out
    assert "inference" in out and "benchmarks/inference_bench.py" in out
    assert main(["bench", "--only", "no-such-bench"]) == 2
    assert "unknown benchmark(s): no-such-bench" in capfd.readouterr().err
