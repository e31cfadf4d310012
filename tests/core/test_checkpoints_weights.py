"""Generator weights files (.safetensors with config + card) and loading any checkpoint kind:
bit-exact round trips, and every bad file refused with its name and the reason."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.weights.checkpoints import (
    load_any_generator,
    load_generator_from_state,
    load_training_state,
    load_weights,
    read_weights_metadata,
    save_training_state,
    save_weights,
)
from core.config import GeneratorConfig, to_dict
from core.errors import CheckpointError
from core.models import build_generator
from tests.core.train_helpers import spread_batchnorm_stats


def _model(cfg: GeneratorConfig, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    g = build_generator(cfg)
    with torch.no_grad():  # distinct BatchNorm buffers, so a dropped buffer would show
        for m in g.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                spread_batchnorm_stats(m, 1, (0.5, 2), batches=17)
    return g


@pytest.mark.parametrize("cfg", [GeneratorConfig(depth=4, ngf=4),
                                 GeneratorConfig(depth=5, ngf=3, norm="instance", input_encoding="color",
                                                 dropout=False),
                                 GeneratorConfig(arch="encoder_decoder", depth=3, ngf=5, norm="none")])
def test_weights_round_trip_is_bit_exact(tmp_path: Path, cfg: GeneratorConfig) -> None:
    g = _model(cfg)
    card = {"step": 1200, "epoch": 3, "run": "street-run", "data": "/data/cityscapes", "notes": "ü"}
    path = save_weights(tmp_path / "sub" / "g.safetensors", g, cfg, card)
    loaded = load_weights(path)
    assert loaded.config == cfg and loaded.card == card and loaded.path == path
    assert not loaded.model.training
    original, again = g.state_dict(), loaded.model.state_dict()
    assert original.keys() == again.keys()
    for key in original:
        assert torch.equal(original[key], again[key]), key
    assert read_weights_metadata(path) == (cfg, card)
    assert not [p for p in path.parent.iterdir() if p.name != "g.safetensors"]  # no temp files left
    x = torch.rand(1, cfg.input_nc, 32, 32)
    g.eval()
    with torch.no_grad():
        assert torch.equal(g(x), loaded.model(x))


def test_training_state_generator_loads_for_inference(tmp_path: Path) -> None:
    cfg = GeneratorConfig(depth=3, ngf=4)
    g = _model(cfg)
    save_training_state(tmp_path / "last.pt", {"generator": g.state_dict(), "generator_config": to_dict(cfg),
                                               "step": 9, "epoch": 1, "card": {"run": "r"}})
    loaded = load_any_generator(tmp_path / "last.pt")
    assert loaded.card == {"run": "r", "step": 9, "epoch": 1}
    pairs = zip(g.state_dict().values(), loaded.model.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("ran code",))


def test_bad_files_name_the_file_and_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = GeneratorConfig(depth=3, ngf=4)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
    bare = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(2)}, str(bare))
    bad_meta = tmp_path / "badmeta.safetensors"
    save_file({"w": torch.zeros(2)}, str(bad_meta), metadata={"roadstudio.generator": json.dumps({"ngf": -1})})
    wrong_shape = tmp_path / "wrong.safetensors"
    save_weights(wrong_shape, _model(GeneratorConfig(depth=3, ngf=8)), GeneratorConfig(depth=3, ngf=8))
    data = wrong_shape.read_bytes()  # same tensors, but metadata claiming ngf 4
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_len])
    header["__metadata__"]["roadstudio.generator"] = json.dumps(to_dict(cfg))
    new_header = json.dumps(header).encode()
    new_header += b" " * (-len(new_header) % 8)
    wrong_shape.write_bytes(len(new_header).to_bytes(8, "little") + new_header + data[8 + header_len:])
    evil = tmp_path / "evil.pt"
    buf = io.BytesIO()
    torch.save({"generator": _Evil()}, buf)
    evil.write_bytes(buf.getvalue())
    not_gen = tmp_path / "other.pt"
    torch.save({"some": torch.zeros(1)}, not_gen)
    cases = [
        (tmp_path / "nope.safetensors", "no such file"),
        (tmp_path, "is a folder"),
        (empty, "the file is empty"),
        (junk, "not a readable .safetensors file"),
        (bare, "without a Road Studio model config"),
        (bad_meta, "model config in the metadata is invalid"),
        (wrong_shape, "weights do not fit the model config"),
        (evil, "refused to load"),
        (not_gen, "not a generator checkpoint"),
        (tmp_path / "model.ckpt", "no such file"),
    ]
    for path, reason in cases:
        with pytest.raises(CheckpointError) as exc:
            load_any_generator(path)
        assert str(exc.value).startswith(str(path)), exc.value
        assert reason in str(exc.value), (path, exc.value)
    assert "ran code" not in capsys.readouterr().out
    (tmp_path / "model.ckpt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="unsupported checkpoint type .ckpt"):
        load_any_generator(tmp_path / "model.ckpt")
    with pytest.raises(CheckpointError, match="refused to load"):
        load_training_state(evil)
    with pytest.raises(CheckpointError, match="no generator state"):
        load_generator_from_state(not_gen)
