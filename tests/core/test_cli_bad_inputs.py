"""The engine's command line against malformed input: images, checkpoints, --config files and run
folders. Each case is a real file on disk and must end the same way: exit code 2, exactly one line
on stderr that says what was wrong and where (the file, or the setting), no traceback.
(Dataset folders with bad files are tests/core/test_data_bad_inputs.py; the app's open paths are
tests/desktop/test_open_bad_files.py.)"""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from core.weights.checkpoints import save_weights
from core.cli import main
from core.config import GeneratorConfig
from core.models import build_generator
from tests.core.train_helpers import TINY_CLI_MODEL, write_aligned_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = [*TINY_CLI_MODEL, "--batch-size", "2", "--device", "cpu", "--val-fraction", "0"]


@dataclass(frozen=True)
class Case:
    make: Callable[[Path, dict[str, Path]], list[str]]  # (case folder, shared files) -> CLI arguments
    phrase: str  # what the one error line must say (besides naming the file or setting)
    names: str | None = "file"  # "file": the line names the bad file (the first path in the args)


# ------------------------------------------------------------------------------------ files


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb() -> bytes:
    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def _png(array: np.ndarray, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, **kw).save(buf, format="PNG")  # type: ignore[arg-type]  # kw: a PIL mode, to make odd PNGs
    return buf.getvalue()


def _labels() -> np.ndarray:
    ids = np.full((32, 64), 7, np.uint8)
    ids[:10] = 23
    return ids


def _infer(image: Path, shared: dict[str, Path], out: Path) -> list[str]:
    return ["infer", "--checkpoint", str(shared["weights"]), "--input", str(image), "--output", str(out)]


def image_case(data: Callable[[], bytes], phrase: str, name: str = "in.png") -> Case:
    def make(d: Path, shared: dict[str, Path]) -> list[str]:
        return _infer(_write(d / name, data()), shared, d / "out.png")
    return Case(make, phrase)


def checkpoint_case(data: Callable[[dict[str, Path]], bytes], phrase: str, name: str = "model.safetensors",
                    command: str = "infer") -> Case:
    def make(d: Path, shared: dict[str, Path]) -> list[str]:
        ckpt = _write(d / name, data(shared))
        if command == "info":
            return ["info", str(ckpt)]
        label = _write(d / "labels.png", _png(_labels()))
        return ["infer", "--checkpoint", str(ckpt), "--input", str(label), "--output", str(d / "out.png")]
    return Case(make, phrase)


def _safetensors(metadata: dict[str, str] | None) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.safetensors"
        save_file({"w": torch.zeros(2)}, str(path), metadata=metadata)
        return path.read_bytes()


def _other_architecture(shared: dict[str, Path]) -> bytes:
    """Weights of a depth-3 U-Net whose metadata says depth 4 (e.g. a file edited or mixed up)."""
    import json
    import tempfile

    from safetensors import safe_open

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.safetensors"
        with safe_open(str(shared["weights"]), framework="pt") as fh:
            meta = dict(fh.metadata())
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - a safetensors handle, not a dict
        config = json.loads(meta["roadstudio.generator"])
        config["depth"] = 4
        meta["roadstudio.generator"] = json.dumps(config)
        save_file(tensors, str(path), metadata=meta)
        return path.read_bytes()


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this ran code",))


def _evil_state() -> bytes:
    buf = io.BytesIO()
    torch.save({"generator": {}, "x": _Evil()}, buf)
    return buf.getvalue()


def _truncated_state(shared: dict[str, Path]) -> bytes:
    data = shared["state"].read_bytes()
    return data[: len(data) // 2]


# ----------------------------------------------------------------------------------- configs


def config_case(text: str, phrase: str) -> Case:
    def make(d: Path, shared: dict[str, Path]) -> list[str]:
        toml = _write(d / "run.toml", text.encode())
        return ["train", "--config", str(toml), "--data", "synthetic", "--run-dir", str(d / "run")]
    return Case(make, phrase)


def run_folder_case(edit: Callable[[Path], object], phrase: str, names: str = "file") -> Case:
    """A copy of a real 1-step run, edited by hand, then `train --resume`."""
    def make(d: Path, shared: dict[str, Path]) -> list[str]:
        run = d / "run"
        shutil.copytree(shared["run"], run)
        edit(run)
        return ["train", "--resume", str(run)]
    return Case(make, phrase, names)


def _edit_config(old: str, new: str) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        path = run / "config.toml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
    return edit


def _replace(name: str, data: bytes) -> Callable[[Path], object]:
    return lambda run: _write(run / name, data)


CASES: dict[str, Case] = {
    # label-map images (infer --input)
    "empty image": image_case(lambda: b"", "empty file (0 bytes)"),
    "text file as image": image_case(lambda: b"hello, not a picture", "not an image file"),
    "truncated PNG": image_case(lambda: _png(_labels())[:-30], "truncated or corrupt image"),
    "decompression bomb": image_case(_bomb, "image too large (40000×40000 pixels"),
    "label ids outside 0..33": image_case(lambda: _png(np.full((32, 64), 99, np.uint8)),
                                          "label ids outside the Cityscapes table (0..33): 99"),
    "16-bit ids above 255": image_case(lambda: _png(np.full((32, 64), 1000, np.uint16)),
                                       "label ids outside the Cityscapes table (0..33): 1000"),
    "photo instead of labels": image_case(
        lambda: _png(np.random.default_rng(0).integers(0, 256, (32, 64, 3), dtype=np.uint8)),
        "does not look like a label map"),
    "missing input": Case(lambda d, s: _infer(d / "nowhere.png", s, d / "out.png"), "no such file"),
    # checkpoints
    "empty weights": checkpoint_case(lambda s: b"", "the file is empty (0 bytes)"),
    "garbage weights": checkpoint_case(lambda s: b"\x00\x01garbage" * 50, "not a readable .safetensors file"),
    "safetensors without a model config": checkpoint_case(lambda s: _safetensors(None),
                                                          "without a Road Studio model config"),
    "model config not JSON": checkpoint_case(lambda s: _safetensors({"roadstudio.generator": "{depth: 3"}),
                                             "model config in the metadata is invalid"),
    "checkpoint of another architecture": checkpoint_case(_other_architecture,
                                                          "weights do not fit the model config"),
    "pickle carrying code": checkpoint_case(lambda s: _evil_state(), "could run code", name="evil.pt"),
    "truncated training state": checkpoint_case(_truncated_state, "not a readable training checkpoint",
                                                name="last.pt", command="info"),
    "unknown checkpoint type": checkpoint_case(lambda s: b"data", "unsupported checkpoint type .ckpt",
                                               name="model.ckpt"),
    # --config files
    "TOML syntax error": config_case("[generator\nngf = 4\n", "not valid TOML"),
    "wrong type": config_case('[generator]\nngf = "sixty-four"\n', "generator.ngf must be a whole number"),
    "unknown key": config_case("[generator]\nfilters = 64\n", "unknown setting(s) for GeneratorConfig: filters"),
    "unknown section": config_case("[trainer]\nlr = 0.1\n", "unknown setting(s) for RunConfig: trainer"),
    "negative crop size": config_case("[data]\ncrop_size = [-256, 256]\n", "crop_size"),
    "zero batch size": config_case("[train]\nbatch_size = 0\n", "batch_size"),
    "unknown norm": config_case('[generator]\nnorm = "group"\n', "norm"),
    "section that is not a table": config_case('generator = "unet"\n', "[generator] must be a table"),
    # run folders (train --resume)
    "hand-edited config.toml, broken TOML": run_folder_case(_edit_config("[generator]", "[generator"),
                                                            "not valid TOML"),
    "hand-edited config.toml, wrong type": run_folder_case(_edit_config("ngf = 4", 'ngf = "four"'),
                                                           "generator.ngf must be a whole number, got 'four'"),
    "hand-edited config.toml, other architecture": run_folder_case(_edit_config("ngf = 4", "ngf = 8"),
                                                                   "does not fit this run's config"),
    "corrupt last.pt": run_folder_case(_replace("checkpoints/last.pt", b"PK\x03\x04 broken zip"),
                                       "not a readable training checkpoint"),
    "run folder is a file": Case(lambda d, s: ["train", "--resume", str(_write(d / "run", b"x"))],
                                 "not a Road Studio run folder"),
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny weights file, and a real 1-step run folder (with its training state) to edit."""
    root = tmp_path_factory.mktemp("shared")
    torch.manual_seed(0)
    cfg = GeneratorConfig(depth=3, ngf=4)
    weights = save_weights(root / "tiny.safetensors", build_generator(cfg), cfg)
    data = write_aligned_dataset(root / "data", 4, size=40)
    run = root / "run"
    assert main(["train", "--data", str(data), "--run-dir", str(run), "--max-steps", "1", *TINY]) == 0
    return {"weights": weights, "run": run, "state": run / "checkpoints" / "last.pt"}


def test_there_are_at_least_25_distinct_malformed_inputs() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", list(CASES))
def test_each_malformed_input_is_one_named_error_line_and_exit_2(name: str, shared: dict[str, Path], tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    args = case.make(tmp_path, shared)
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    # A progress bar may have drawn (and wiped) itself on stderr before; the error is one line.
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error")]
    assert code == 2, (name, err)
    assert len(errors) == 1 and errors[0] == lines[-1] and errors[0].startswith("error: "), (name, err)
    lines = errors
    assert "Traceback" not in err and "this ran code" not in out
    assert case.phrase in lines[0], (name, lines[0])
    if case.names == "file":
        bad = next(Path(a) for a in args if a.startswith(str(tmp_path)))
        assert str(bad) in lines[0], (name, lines[0])
