"""Fine-tuning (`--init-from`, core.train.warm_start): a run starts from trained weights, a plain
model starts a class-modulated one computing exactly the same function, the discriminator saved
beside a model comes along, and weights that do not fit are named errors."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.weights.checkpoints import load_training_state, load_weights, save_weights
from core.config import GeneratorConfig, RunConfig
from core.errors import CheckpointError, UserError
from core.labels import NUM_PALETTE_CLASSES, PALETTE, PALETTE_IDS
from core.models import build_discriminator, build_generator
from core.train.presets import preset_config
from core.eval.critic import export_discriminator
from core.io.resources import resource_path
from core.train.events import Warning_
from core.train.loop import train
from core.train.warm_start import borrowed_classes, warm_start
from tests.core.train_helpers import TINY_CLI_MODEL, one_torch_thread, tiny_config, tiny_sources

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)


def _with_train(cfg: RunConfig, *, init_from: str, max_steps: int) -> RunConfig:
    return cfg.replace(train=dataclasses.replace(cfg.train, init_from=init_from, max_steps=max_steps))


def _one_hot_scene(height: int, width: int, seed: int = 0, classes: list[int] | None = None) -> torch.Tensor:
    """A blocky label map over `classes` (default: every palette class), one-hot (1, classes, H, W)."""
    rng = np.random.default_rng(seed)
    blocks = rng.choice(classes or list(range(NUM_PALETTE_CLASSES)), (height // 16, width // 16))
    index = torch.from_numpy(np.kron(blocks, np.ones((16, 16), np.int64)))
    return torch.nn.functional.one_hot(index, NUM_PALETTE_CLASSES).permute(2, 0, 1)[None].float()


def _randomise_norms(net: torch.nn.Module, seed: int) -> None:
    """Trained-like BatchNorm affine and running statistics (fresh ones are 1/0 and hide mistakes)."""
    g = torch.Generator().manual_seed(seed)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                if module.affine:
                    module.weight.copy_(torch.rand(module.num_features, generator=g) + 0.5)
                    module.bias.copy_(torch.randn(module.num_features, generator=g) * 0.3)
                assert module.running_mean is not None and module.running_var is not None
                module.running_mean.copy_(torch.randn(module.num_features, generator=g) * 0.2)
                module.running_var.copy_(torch.rand(module.num_features, generator=g) + 0.5)


def _plain_model_with_shares(tmp_path: Path, shares: dict[str, float]) -> tuple[Path, GeneratorConfig]:
    """A plain (no CLADE) default-model-shaped generator with trained-like norms whose card
    records `shares` as its class pixel share (every other class at 5 %)."""
    cfg = dataclasses.replace(preset_config("default-model").generator, depth=5)
    source = build_generator(cfg)
    _randomise_norms(source, seed=7)
    card = {"class_pixel_share": {c.name: shares.get(c.name, 0.05) for c in PALETTE}}
    return save_weights(tmp_path / "plain.safetensors", source.eval(), cfg, card), cfg


def test_the_bundled_model_starts_a_fine_tune_that_renders_what_it_renders() -> None:
    """Start from: bundled default model, with its own recipe (every-brush): until training moves
    the weights, the fine-tune renders every class the bundled model saw exactly as it does."""
    bundled = load_weights(resource_path("models", "default.safetensors"))
    cfg = preset_config("every-brush").generator
    torch.manual_seed(0)
    student = build_generator(cfg)
    # The classes it saw (those it barely saw start as a neighbour: tested below).
    seen = [i for i in range(NUM_PALETTE_CLASSES) if i not in borrowed_classes(bundled.card)]
    x = _one_hot_scene(128, 256, classes=seen)
    with torch.no_grad():
        before = student.eval()(x)
        notes = warm_start("default", student, None, cfg)
        after = student.eval()(x)
        expected = bundled.model.eval()(x)
    assert "default.safetensors" in notes[0]
    assert not torch.allclose(before, expected, atol=1e-3)  # random init renders something else
    assert torch.allclose(after, expected, atol=1e-5), float((after - expected).abs().max())


def test_a_plain_tiny_model_with_trained_like_norms_starts_clade_exactly(tmp_path: Path) -> None:
    cfg = GeneratorConfig(depth=4, ngf=8, upsample="resize")
    source = build_generator(cfg)
    _randomise_norms(source, seed=3)
    path = save_weights(tmp_path / "plain.safetensors", source.eval(), cfg)
    target_cfg = dataclasses.replace(cfg, modulation="clade")
    target = build_generator(target_cfg)
    warm_start(str(path), target, None, target_cfg)
    x = _one_hot_scene(32, 64, seed=1)
    with torch.no_grad():
        assert torch.allclose(target.eval()(x), source.eval()(x), atol=1e-5)


def test_weights_of_another_network_are_a_named_error(tmp_path: Path) -> None:
    cfg = GeneratorConfig(depth=4, ngf=8)
    path = save_weights(tmp_path / "narrow.safetensors", build_generator(cfg), cfg)
    wider = GeneratorConfig(depth=4, ngf=16)
    with pytest.raises(CheckpointError, match=r"narrow\.safetensors.*ngf 8 vs 16"):
        warm_start(str(path), build_generator(wider), None, wider)
    # per-class tables cannot become one affine
    clade = dataclasses.replace(cfg, modulation="clade")
    clade_path = save_weights(tmp_path / "clade.safetensors", build_generator(clade), clade)
    with pytest.raises(CheckpointError, match="modulation 'clade'"):
        warm_start(str(clade_path), build_generator(cfg), None, cfg)
    with pytest.raises(UserError, match="missing.safetensors"):
        warm_start(str(tmp_path / "missing.safetensors"), build_generator(cfg), None, cfg)


def test_a_run_fine_tunes_from_a_finished_run_with_its_discriminator(tmp_path: Path) -> None:
    base = tiny_config(max_steps=4, checkpoint_every=4)
    list(train(base, tmp_path / "first", sources=tiny_sources()))
    first_state = tmp_path / "first" / "checkpoints" / "last.pt"
    shipped = tmp_path / "shipped.safetensors"
    trained = load_training_state(first_state)
    loaded = load_weights(tmp_path / "first" / "checkpoints" / "last.safetensors")
    save_weights(shipped, loaded.model, loaded.config)
    export_discriminator(first_state, tmp_path / "shipped.discriminator.safetensors")

    fine = _with_train(base, init_from=str(shipped), max_steps=1)
    events = list(train(fine, tmp_path / "fine", sources=tiny_sources()))
    notes = [e.message for e in events if isinstance(e, Warning_)]
    assert any("generator starts from shipped.safetensors" in w for w in notes)
    assert any("discriminator starts from shipped.discriminator.safetensors" in w for w in notes)
    # The fine-tune's step-1 discriminator is one Adam step from the first run's, not from a random init.
    fine_state = load_training_state(tmp_path / "fine" / "checkpoints" / "last.pt")
    assert fine_state["step"] == 1
    key = next(k for k in trained["discriminator"] if k.endswith("weight"))
    distance_to_trained = (fine_state["discriminator"][key] - trained["discriminator"][key]).abs().max()
    fresh = build_discriminator(base.discriminator, base.generator).state_dict()[key]
    assert distance_to_trained < 0.01 < (fresh - trained["discriminator"][key]).abs().max()


def test_a_discriminator_that_does_not_fit_starts_fresh_with_a_note(tmp_path: Path) -> None:
    base = tiny_config(max_steps=2, checkpoint_every=2)
    list(train(base, tmp_path / "first", sources=tiny_sources()))
    other_d = base.replace(discriminator=dataclasses.replace(base.discriminator, ndf=4))
    fine = _with_train(other_d, init_from=str(tmp_path / "first" / "checkpoints" / "last.pt"), max_steps=1)
    events = list(train(fine, tmp_path / "fine", sources=tiny_sources()))
    notes = [e.message for e in events if isinstance(e, Warning_)]
    assert any("last.pt does not fit this run's discriminator" in w and "random weights" in w for w in notes)


def test_cli_init_from_a_file_that_does_not_fit_exits_2_naming_it(tmp_path: Path) -> None:
    cfg = GeneratorConfig(depth=5, ngf=8)
    bad = save_weights(tmp_path / "other.safetensors", build_generator(cfg), cfg)
    proc = subprocess.run([sys.executable, "-m", "core", "train", "--data", "synthetic", "--synthetic-count", "4",
                           *TINY_CLI_MODEL, "--max-steps", "1", "--device", "cpu", "--run-dir", str(tmp_path / "run"),
                           "--init-from", str(bad)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "other.safetensors" in proc.stderr and "Traceback" not in proc.stderr


def test_a_brush_the_starting_model_barely_saw_starts_as_its_nearest_seen_class(tmp_path: Path) -> None:
    """A model that never saw a bus (version 0.2 did not): a fine-tune starts the bus brush as a
    car, so a bus painted where a car was renders exactly as that car did, and the discriminator
    judges it so; classes it saw keep their own weights."""
    path, plain = _plain_model_with_shares(tmp_path, {"bus": 0.0, "wall": 0.0006, "terrain": 0.006, "car": 0.06})
    cfg = dataclasses.replace(plain, modulation="clade")
    student = build_generator(cfg)
    critic = build_discriminator(preset_config("default-model").discriminator, cfg)
    notes = warm_start(str(path), student, critic, cfg)
    assert any("bus as car" in n and "wall as building" in n and "terrain as vegetation" in n for n in notes)
    index = {c.name: i for i, c in enumerate(PALETTE)}
    car = torch.zeros(1, NUM_PALETTE_CLASSES, 128, 256)
    car[:, index["road"]] = 1
    car[:, :, 64:112, 96:160] = 0
    car[:, index["car"], 64:112, 96:160] = 1
    bus = car.clone()
    bus[:, index["bus"]], bus[:, index["car"]] = car[:, index["car"]], 0
    with torch.no_grad():
        student.eval()
        assert torch.allclose(student(bus), student(car), atol=1e-6)
        photo = torch.zeros(1, 3, 128, 256)
        for scale_logits_bus, scale_logits_car in zip(critic.eval()(torch.cat([bus, photo], 1)),
                                                      critic(torch.cat([car, photo], 1)), strict=True):
            assert torch.allclose(scale_logits_bus, scale_logits_car, atol=1e-6)
        # a class it saw keeps its own weights: a building painted there is not a car
        building = car.clone()
        building[:, index["building"]], building[:, index["car"]] = car[:, index["car"]], 0
        assert not torch.allclose(student(building), student(car), atol=1e-3)
    # a model whose card records no class shares borrows nothing
    assert borrowed_classes({}) == {}


def test_the_bundled_model_starts_a_photo_edit_run_that_ignores_the_photo_until_trained() -> None:
    """preset photo-edit (--init-from default): the label model's weights, zero weights for the
    masked photo and the hole, so at step 0 it renders the labels as the bundled model does,
    whatever the photo; the discriminator's first convolutions are widened the same way."""
    from core.models.encoding import encode_input

    cfg = preset_config("photo-edit")
    assert cfg.train.init_from == "default" and cfg.generator.photo_conditioned
    bundled = load_weights(resource_path("models", "default.safetensors"))
    student = build_generator(cfg.generator)
    critic = build_discriminator(cfg.discriminator, cfg.generator)
    notes = warm_start("default", student, critic, cfg.generator)
    assert any("discriminator starts from default.discriminator.safetensors" in n for n in notes)
    seen = [i for i in range(NUM_PALETTE_CLASSES) if i not in borrowed_classes(bundled.card)]
    labels = _one_hot_scene(128, 256, classes=seen)
    ids = torch.from_numpy(PALETTE_IDS[labels[0].argmax(0).numpy()])[None]
    photo = torch.rand(1, 3, 128, 256) * 2 - 1
    hole = torch.zeros(1, 1, 128, 256)
    hole[..., 32:96, 64:192] = 1
    with torch.no_grad():
        edited = student.eval()(encode_input(ids, cfg.generator, photo=photo, hole=hole))
        other_photo = student(encode_input(ids, cfg.generator, photo=-photo, hole=hole))
        expected = bundled.model.eval()(labels)
    assert torch.allclose(edited, expected, atol=1e-5) and torch.allclose(other_photo, expected, atol=1e-5)
