"""The discriminator's critic map: found next to a generator checkpoint, exact receptive fields,
a 1×1 PixelGAN's map equals the per-pixel sigmoid, multi-scale maps, and the exported critic of a
shipped model gives the same map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.eval.critic import DISCRIMINATOR_SUFFIX, export_discriminator, load_critic
from core.weights.checkpoints import save_training_state, save_weights
from core.config import DiscriminatorConfig, GeneratorConfig, RunConfig, to_dict
from core.models.encoding import encode_labels
from core.models import build_discriminator, build_generator

GEN = GeneratorConfig(depth=3, ngf=4)


def _run(tmp_path: Path, disc: DiscriminatorConfig, step: int = 10) -> Path:
    """step_N.safetensors + step_N.pt (with the discriminator) as the training loop writes them."""
    torch.manual_seed(0)
    g = build_generator(GEN)
    d = build_discriminator(disc, GEN)
    folder = tmp_path / "checkpoints"
    cfg = RunConfig(generator=GEN, discriminator=disc)
    weights = save_weights(folder / f"step_{step:07d}.safetensors", g, GEN, {"step": step})
    save_training_state(folder / f"step_{step:07d}.pt", {"generator": g.state_dict(), "discriminator": d.state_dict(),
                                                         "config": to_dict(cfg), "generator_config": to_dict(GEN),
                                                         "step": step})
    return weights


def _scene(h: int = 64, w: int = 96) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    ids = np.full((h, w), 7, np.uint8)
    ids[: h // 3] = 23
    ids[h // 2:, w // 2:] = 26
    return ids, rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize(("n_layers", "field"), [(0, 1), (1, 16), (3, 70)])
def test_receptive_fields_are_the_papers_patch_sizes(tmp_path, n_layers, field):
    weights = _run(tmp_path, DiscriminatorConfig(ndf=4, n_layers=n_layers))
    critic, note = load_critic(weights)
    assert critic is not None, note
    assert critic.source == weights.with_suffix(".pt")
    ids, image = _scene()
    result = critic.score(ids, image)
    assert result.receptive_field == [field]
    assert result.probability.shape == ids.shape and 0 <= result.probability.min() <= result.probability.max() <= 1


def test_a_pixel_gan_map_is_the_per_pixel_sigmoid(tmp_path):
    weights = _run(tmp_path, DiscriminatorConfig(ndf=4, n_layers=0))
    critic, _ = load_critic(weights)
    assert critic is not None
    ids, image = _scene()
    result = critic.score(ids, image)
    x = encode_labels(torch.from_numpy(ids)[None], GEN.input_encoding)
    photo = torch.from_numpy(image.transpose(2, 0, 1).copy()).float()[None] / 127.5 - 1
    with torch.no_grad():
        expected = torch.sigmoid(critic.net(torch.cat([x, photo], 1)))[0, 0].numpy()
    np.testing.assert_allclose(result.probability, expected, atol=1e-6)


def test_multi_scale_maps_are_averaged_and_the_exported_critic_agrees(tmp_path):
    weights = _run(tmp_path, DiscriminatorConfig(ndf=4, n_layers=2, scales=2))
    critic, _ = load_critic(weights)
    assert critic is not None
    ids, image = _scene()
    result = critic.score(ids, image)
    assert len(result.patch_probability) == 2 and result.receptive_field[1] > result.receptive_field[0]
    shipped = tmp_path / "shipped" / "model.safetensors"
    shipped.parent.mkdir()
    shipped.write_bytes(weights.read_bytes())
    export_discriminator(weights.with_suffix(".pt"), shipped.with_name("model" + DISCRIMINATOR_SUFFIX))
    again, note = load_critic(shipped)
    assert again is not None, note
    np.testing.assert_array_equal(again.score(ids, image).probability, result.probability)


def test_without_a_discriminator_the_reason_is_given(tmp_path):
    weights = save_weights(tmp_path / "best.safetensors", build_generator(GEN), GEN)
    critic, note = load_critic(weights)
    assert critic is None and "best.safetensors" in note and "no discriminator" in note


def test_the_default_model_ships_a_critic_that_tells_its_renderings_from_real_photos():
    """The bundled default model carries its discriminator, so the Critic view works on first
    launch; and the critic means something: on real CamVid test frames it finds the real photo
    more real than the default model's rendering of the same label map, nearly always."""
    from core.data.camvid import CamVidSource
    from core.eval.evaluate import resize_pair
    from core.render.infer import Predictor
    from core.io.resources import resource_path
    from tests.core.test_eval import SHARED_CAMVID

    model = resource_path("models", "default.safetensors")
    critic, note = load_critic(model)
    assert critic is not None, note
    assert critic.source.name == "default" + DISCRIMINATOR_SUFFIX
    if not (SHARED_CAMVID / "test").is_dir():
        pytest.skip(f"shared CamVid data not found at {SHARED_CAMVID}")
    predictor = Predictor.from_path(model, "cpu")
    source = CamVidSource(SHARED_CAMVID, "test")
    real_wins = 0
    frames = range(0, len(source), len(source) // 10)
    for index in frames:
        ids, photo = resize_pair(*source[index], (256, 320))
        real = critic.score(ids, photo).probability.mean()
        fake = critic.score(ids, predictor.predict(ids)).probability.mean()
        real_wins += real > fake
    assert real_wins >= 0.8 * len(frames)
