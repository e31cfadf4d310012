"""Predictor: label ids of any size in, the model's photo out; deterministic unless a variation
seed asks for dropout noise, which then depends on the seed alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from core.weights.checkpoints import LoadedGenerator, save_weights
from core.config import Encoding, GeneratorConfig, Norm
from core.models.encoding import encode_labels, tensor_to_photo
from core.errors import ConfigError
from core.render.infer import Predictor, pad_to_multiple, resolve_device
from core.labels import PALETTE_IDS
from core.models import build_generator
from tests.core.train_helpers import spread_batchnorm_stats


def _loaded(depth: int = 5, ngf: int = 4, norm: Norm = "batch", encoding: Encoding = "onehot",
            dropout: bool = True, seed: int = 0) -> LoadedGenerator:
    torch.manual_seed(seed)
    cfg = GeneratorConfig(depth=depth, ngf=ngf, norm=norm, input_encoding=encoding, dropout=dropout)
    model = build_generator(cfg)
    with torch.no_grad():  # larger weights and real BatchNorm statistics, as after training
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.normal_(0.0, 0.15)
            if isinstance(m, nn.BatchNorm2d):
                spread_batchnorm_stats(m, 0.2, (0.5, 1.5))
    return LoadedGenerator(model=model.eval(), config=cfg, card={"step": 7, "run": "t"}, path=Path("mem"))


def _scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ids = np.full((h, w), 23, np.uint8)  # sky
    ids[h // 2:] = 7  # road
    blocks = rng.choice(PALETTE_IDS, size=((h + 7) // 8, (w + 7) // 8))
    ids[: h // 3] = np.kron(blocks, np.ones((8, 8), np.uint8))[:h, :w][: h // 3]
    return ids


@pytest.mark.parametrize("encoding", ["onehot", "color"])
def test_output_equals_the_plain_model_on_a_multiple_size(encoding: Encoding) -> None:
    loaded = _loaded(encoding=encoding)
    ids = _scene(64, 96)
    with torch.no_grad():
        expected = tensor_to_photo(loaded.model(encode_labels(ids, encoding).unsqueeze(0))[0])
    predictor = Predictor(loaded, "cpu", channels_last=False)
    photo = predictor.predict(ids)
    assert photo.dtype == np.uint8 and photo.shape == (64, 96, 3)
    assert np.array_equal(photo, expected)
    assert photo.std() > 1  # not a constant image: equality means something


def test_channels_last_path_matches_the_plain_model() -> None:
    loaded = _loaded()
    ids = _scene(64, 64)
    x = encode_labels(ids, "onehot").unsqueeze(0)
    with torch.no_grad():
        expected = loaded.model(x)
    predictor = Predictor(loaded, "cpu", channels_last=True)
    assert predictor.channels_last
    got = predictor.forward(predictor.encode(ids))
    assert float((got - expected).abs().max()) < 1e-5
    assert np.abs(predictor.predict(ids).astype(int) - tensor_to_photo(expected[0]).astype(int)).max() <= 1


@pytest.mark.parametrize("shape", [(37, 53), (1, 40), (33, 1), (100, 31)])
def test_any_size_is_padded_and_cropped_back(shape: tuple[int, int]) -> None:
    loaded = _loaded(depth=5)
    predictor = Predictor(loaded, "cpu", channels_last=False)
    ids = _scene(*shape)
    photo = predictor.predict(ids)
    assert photo.shape == (*shape, 3)
    padded = pad_to_multiple(ids, 32)
    with torch.no_grad():
        full = tensor_to_photo(loaded.model(encode_labels(padded, "onehot").unsqueeze(0))[0])
    assert np.array_equal(photo, full[: shape[0], : shape[1]])


def test_pad_to_multiple_mirrors_and_keeps_the_origin() -> None:
    ids = np.arange(15, dtype=np.uint8).reshape(3, 5)
    out = pad_to_multiple(ids, 4)
    assert out.shape == (4, 8)
    assert np.array_equal(out[:3, :5], ids)
    assert np.array_equal(out[3, :5], ids[1])  # mirrored about the last row
    assert np.array_equal(out[:3, 5], ids[:, 3])
    assert pad_to_multiple(ids[:, :4][:2], 2) is not None
    big = pad_to_multiple(np.zeros((3, 5), np.uint8), 256)  # padding much larger than the map
    assert big.shape == (256, 256)
    same = np.zeros((8, 16), np.uint8)
    assert pad_to_multiple(same, 8) is same


def test_deterministic_by_default() -> None:
    predictor = Predictor(_loaded(), "cpu")
    ids = _scene(40, 72)
    assert np.array_equal(predictor.predict(ids), predictor.predict(ids))
    assert predictor.last_latency_s is not None and predictor.last_latency_s > 0


def test_variation_depends_only_on_the_seed_and_leaves_the_global_rng_alone() -> None:
    loaded = _loaded(depth=6, ngf=8)  # depth 6: dropout in level 4
    predictor = Predictor(loaded, "cpu")
    bn_before = {k: v.clone() for k, v in loaded.model.state_dict().items()}
    ids = _scene(64, 64)
    plain = predictor.predict(ids)
    torch.manual_seed(123)
    rng_before = torch.get_rng_state()
    a = predictor.predict(ids, variation=1)
    assert torch.equal(torch.get_rng_state(), rng_before)
    torch.rand(5)  # another user of the global RNG in between changes nothing
    b = predictor.predict(ids, variation=1)
    c = predictor.predict(ids, variation=2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, plain)
    # afterwards everything is back to eval: deterministic output, BatchNorm statistics unchanged
    assert np.array_equal(predictor.predict(ids), plain)
    assert all(not m.training for m in predictor.model.modules())
    for k, v in predictor.model.state_dict().items():
        assert torch.equal(v, bn_before[k]), k
    # a fresh Predictor on the same weights gives the same variation
    assert np.array_equal(Predictor(_loaded(depth=6, ngf=8), "cpu").predict(ids, variation=1), a)


def test_variation_is_a_no_op_without_dropout() -> None:
    predictor = Predictor(_loaded(depth=6, dropout=False), "cpu")
    assert not predictor.has_dropout
    ids = _scene(64, 64)
    assert np.array_equal(predictor.predict(ids, variation=5), predictor.predict(ids))


def test_from_path_exposes_config_card_and_device(tmp_path: Path) -> None:
    loaded = _loaded(encoding="color")
    path = save_weights(tmp_path / "g.safetensors", loaded.model, loaded.config, {"step": 42, "run": "demo"})
    predictor = Predictor.from_path(path, "cpu")
    assert predictor.config == loaded.config
    assert predictor.card == {"step": 42, "run": "demo"}
    assert predictor.device == torch.device("cpu")
    ids = _scene(32, 48)
    assert np.array_equal(predictor.predict(ids), Predictor(loaded, "cpu").predict(ids))


def test_integer_arrays_are_accepted_and_bad_input_is_named() -> None:
    predictor = Predictor(_loaded(depth=3), "cpu")
    ids = _scene(16, 16)
    assert np.array_equal(predictor.predict(ids.astype(np.int64)), predictor.predict(ids))
    with pytest.raises(ValueError, match="H×W"):
        predictor.predict(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        predictor.predict(np.full((4, 4), -1))
    with pytest.raises(ValueError, match="empty"):
        predictor.predict(np.zeros((0, 4), np.uint8))
    with pytest.raises(ValueError, match="numpy array"):
        predictor.predict([[0, 1]])  # type: ignore[arg-type]  # deliberately not an array


def test_devices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ConfigError, match="'tpu' is not one of auto, cpu, cuda, mps"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            Predictor(_loaded(depth=3), "cuda")


@pytest.mark.parametrize("encoding", ["onehot", "color"])
def test_fast_encoding_equals_core_encoding_for_every_id(encoding: Encoding) -> None:
    from core.render.infer import encode_ids

    ids = np.arange(256, dtype=np.uint8).reshape(16, 16)  # every uint8 value, palette or not
    assert torch.equal(encode_ids(ids, encoding), encode_labels(ids, encoding).unsqueeze(0))
    assert torch.equal(encode_ids(_scene(37, 53), encoding), encode_labels(_scene(37, 53), encoding).unsqueeze(0))


def test_fast_photo_conversion_equals_core_conversion() -> None:
    from core.render.infer import to_photo

    torch.manual_seed(0)
    y = torch.rand(3, 40, 50) * 2.4 - 1.2  # beyond [-1, 1] too: clamped
    steps = (torch.arange(256, dtype=torch.float32) + 0.5) / 127.5 - 1.0  # exact rounding halves
    y[0, :5, :] = steps[:250].reshape(5, 50)
    assert np.array_equal(to_photo(y), tensor_to_photo(y))
    assert np.array_equal(to_photo(y[:, 3:20, 7:31]), tensor_to_photo(y[:, 3:20, 7:31]))  # a strided view
    cl = y[None].contiguous(memory_format=torch.channels_last)[0]
    assert np.array_equal(to_photo(cl), tensor_to_photo(y))
