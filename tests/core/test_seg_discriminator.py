"""OASIS's segmentation discriminator (issue 18): shapes and class channels, the class-balanced
loss, D and G learning on a fixed batch, training alone and beside the PatchGAN, exact resume,
config round trip, the critic overlay, and the paper's discriminator left as it was."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from core.config import (
    DiscriminatorConfig, DiscriminatorKind, GeneratorConfig, RunConfig, load_run_config, save_run_config,
)
from core.weights.checkpoints import load_training_state, load_weights
from core.errors import ConfigError
from core.labels import ID_TO_PALETTE_INDEX, NUM_PALETTE_CLASSES, class_by_name
from core.models import build_discriminator, build_generator, build_seg_discriminator, count_parameters
from core.models.seg_discriminator import FAKE_CHANNEL, SegmentationDiscriminator
from core.train.events import Finished, Started, Step
from core.train.loop import train
from core.train.losses import class_balanced_ce
from core.train.seg_adversary import SegAdversary, palette_classes
from tests.core.test_checkpoint_state import assert_identical
from tests.core.train_helpers import (ROAD, SKY, one_torch_thread, straight_and_resumed, tiny_config, tiny_pairs,
                                     tiny_sources)

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)


def _grad(parameter: torch.Tensor) -> torch.Tensor:
    assert parameter.grad is not None, "no gradient"
    return parameter.grad


def _seg(cfg: RunConfig, kind: DiscriminatorKind = "segmentation", **train_kw: Any) -> RunConfig:
    return cfg.replace(discriminator=dataclasses.replace(cfg.discriminator, kind=kind, seg_ndf=4),
                       train=dataclasses.replace(cfg.train, **train_kw))


def test_outputs_one_logit_per_pixel_for_fake_and_each_of_the_19_classes() -> None:
    d = build_seg_discriminator(DiscriminatorConfig(kind="segmentation", seg_ndf=4))
    assert isinstance(d, SegmentationDiscriminator)
    out = d(torch.randn(2, 3, 32, 48))  # the photo only
    assert out.shape == (2, NUM_PALETTE_CLASSES, 32, 48) and NUM_PALETTE_CLASSES == 20
    assert FAKE_CHANNEL == 0 == int(ID_TO_PALETTE_INDEX[0])  # the palette's "unlabeled" index
    road = int(ID_TO_PALETTE_INDEX[class_by_name("road").id])
    assert 1 <= road < NUM_PALETTE_CLASSES
    no_sn = build_seg_discriminator(DiscriminatorConfig(seg_ndf=4, seg_spectral_norm=False))
    assert not any("parametrizations" in k for k in no_sn.state_dict())
    assert any("parametrizations" in k for k in d.state_dict())


def test_class_balanced_loss_ignores_unlabeled_pixels_and_weights_rare_classes_up() -> None:
    # 1×1×4×4: 12 road pixels (class 1), 2 car pixels (class 2), 2 unlabeled (0).
    classes = torch.tensor([[[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [2, 2, 0, 0]]])
    logits = torch.zeros(1, 3, 4, 4)
    logits[0, 1] = 2.0  # D says "road" everywhere: right on road, wrong on the car
    ce = torch.nn.functional.cross_entropy(logits, classes, reduction="none")[0]
    ce_road, ce_car = float(ce[0, 0]), float(ce[3, 0])
    assert ce_car > ce_road
    # Each present class counts the same: (mean road CE + mean car CE) / 2, not the pixel mean.
    assert float(class_balanced_ce(logits, classes)) == pytest.approx((ce_road + ce_car) / 2, rel=1e-6)
    unbalanced = (12 * ce_road + 2 * ce_car) / 14
    assert float(class_balanced_ce(logits, classes)) > unbalanced  # the rare car is weighted up
    # Unlabeled pixels: whatever D says there changes nothing.
    other = logits.clone()
    other[0, :, 3, 2:] = torch.tensor([[9.0, -9.0], [0.0, 3.0], [5.0, 1.0]])
    assert float(class_balanced_ce(other, classes)) == pytest.approx(float(class_balanced_ce(logits, classes)))
    # Fakes: target channel 0, weighted by the painted classes (unlabeled still ignored).
    ce_fake = torch.nn.functional.cross_entropy(logits, torch.zeros_like(classes), reduction="none")[0]
    assert float(class_balanced_ce(logits, classes, fake=True)) == pytest.approx(float(ce_fake[0, 0]), rel=1e-6)
    # nothing labelled: zero, not NaN
    assert float(class_balanced_ce(logits, torch.zeros_like(classes))) == 0.0


def test_d_and_g_steps_lower_their_losses_on_a_fixed_batch() -> None:
    cfg = _seg(tiny_config(size=32, depth=4, ngf=8))
    cfg = cfg.replace(train=dataclasses.replace(cfg.train, lr=2e-3, beta1=0.5))
    torch.manual_seed(0)
    ids = torch.from_numpy(np.stack([p[0] for p in tiny_pairs(2, 32)]))
    real = torch.from_numpy(np.stack([p[1] for p in tiny_pairs(2, 32)])).permute(0, 3, 1, 2).float() / 127.5 - 1
    classes = palette_classes(ids)
    assert set(classes.unique().tolist()) == {int(ID_TO_PALETTE_INDEX[i]) for i in (SKY, ROAD, 11, 26, 21)}
    seg = SegAdversary(cfg, torch.device("cpu"))
    fake = torch.zeros_like(real)
    from contextlib import nullcontext

    first = seg.d_step(real, fake, classes, nullcontext)
    for _ in range(30):
        last = seg.d_step(real, fake, classes, nullcontext)
    assert float(last["D_seg_real"].detach()) < 0.7 * float(first["D_seg_real"].detach())
    assert float(last["D_seg_fake"].detach()) < 0.7 * float(first["D_seg_fake"].detach())
    # G: with D fixed, a learnable image moves towards "its painted class" for D.
    d_grads = [_grad(p).clone() for p in seg.plain.parameters()]  # left by the last D step
    image = torch.zeros_like(real, requires_grad=True)
    opt = torch.optim.Adam([image], lr=0.05)
    before = float(seg.g_loss(image, classes, nullcontext).detach())
    for _ in range(20):
        opt.zero_grad()
        seg.g_loss(image, classes, nullcontext).backward()
        opt.step()
    after = float(seg.g_loss(image, classes, nullcontext).detach())
    print(before, after)
    assert after < 0.7 * before
    # frozen D: G's steps add nothing to its gradients
    assert all(torch.equal(_grad(p), g) for p, g in zip(seg.plain.parameters(), d_grads, strict=True))


def test_new_settings_are_validated_and_round_trip_through_toml(tmp_path: Path) -> None:
    assert DiscriminatorConfig().kind == "patch"
    with pytest.raises(ConfigError, match="kind"):
        DiscriminatorConfig(kind="oasis")  # type: ignore[arg-type]  # deliberately invalid
    with pytest.raises(ConfigError, match="lambda_seg"):
        dataclasses.replace(tiny_config().train, lambda_seg=-1.0)
    with pytest.raises(ConfigError, match="seg_labelmix"):
        dataclasses.replace(tiny_config().train, seg_labelmix=-1.0)
    cfg = _seg(tiny_config(), "patch+segmentation", lambda_seg=2.5, seg_labelmix=10.0, lambda_l1=0.0)
    cfg = cfg.replace(discriminator=dataclasses.replace(cfg.discriminator, seg_spectral_norm=False))
    save_run_config(cfg, tmp_path / "c.toml")
    assert load_run_config(tmp_path / "c.toml") == cfg


@pytest.mark.parametrize("kind", ["segmentation", "patch+segmentation"])
def test_trains_reports_its_losses_and_records_the_discriminator(tmp_path: Path, kind: DiscriminatorKind) -> None:
    cfg = _seg(tiny_config(max_steps=4, checkpoint_every=2), kind, seg_labelmix=10.0)
    events = list(train(cfg, tmp_path / "run", sources=tiny_sources(val=2)))
    assert isinstance(events[-1], Finished)
    steps = [e for e in events if isinstance(e, Step)]
    expected = {"G_L1", "G_seg", "D_seg_real", "D_seg_fake", "D_seg_mix"}
    if kind == "patch+segmentation":
        expected |= {"G_GAN", "D_real", "D_fake"}
    assert steps and all(set(s.losses) == expected for s in steps)
    assert all(math.isfinite(v) for s in steps for v in s.losses.values())
    seg_params = count_parameters(build_seg_discriminator(cfg.discriminator))
    patch_params = count_parameters(build_discriminator(cfg.discriminator, cfg.generator))
    started = next(e for e in events if isinstance(e, Started))
    assert started.discriminator_params == seg_params + (patch_params if kind != "segmentation" else 0)
    state = load_training_state(tmp_path / "run/checkpoints/last.pt")
    assert {"seg_discriminator", "optimizer_D_seg"} <= state.keys()
    assert ("discriminator" in state) == (kind != "segmentation")
    card = load_weights(tmp_path / "run/checkpoints/last.safetensors").card
    assert card["d_kind"] == kind and card["lambda_seg"] == 1.0


@pytest.mark.parametrize("kind", ["segmentation", "patch+segmentation"])
def test_resumes_bit_identical(tmp_path: Path, kind: DiscriminatorKind) -> None:
    cfg = _seg(tiny_config(size=64, depth=6, ngf=4, ndf=4, epochs=2, epochs_decay=2, checkpoint_every=3,
                           sample_every=2), kind, seg_labelmix=10.0, ema_decay=0.9)
    events, cut_step, straight, resumed = straight_and_resumed(cfg, tmp_path, {"count": 5, "val": 2, "size": 64}, 5)
    assert isinstance(events[-1], Finished) and cut_step == 3
    assert_identical(straight, resumed)


def test_patch_runs_train_exactly_as_before_and_the_paper_preset_is_unchanged(tmp_path: Path) -> None:
    from core.train.presets import preset_config

    paper = preset_config("paper")
    assert paper.discriminator.kind == "patch" and preset_config("default-model").discriminator.kind == "patch"
    assert count_parameters(build_discriminator(paper.discriminator, paper.generator)) == 2_768_705
    assert count_parameters(build_generator(GeneratorConfig(input_encoding="color"))) == 54_413_955
    events = list(train(tiny_config(max_steps=2), tmp_path / "plain", sources=tiny_sources()))
    assert set(next(e for e in events if isinstance(e, Step)).losses) == {"G_GAN", "G_L1", "D_real", "D_fake"}
    state = load_training_state(tmp_path / "plain/checkpoints/last.pt")
    assert not {"seg_discriminator", "optimizer_D_seg", "ema_generator"} & state.keys()


def test_critic_overlay_for_a_seg_only_run_is_one_minus_p_fake(tmp_path: Path) -> None:
    from core.eval.critic import Critic, SegCritic, load_critic

    for kind in ("segmentation", "patch+segmentation"):
        list(train(_seg(tiny_config(max_steps=2), kind), tmp_path / kind, sources=tiny_sources()))
    patch_critic, note = load_critic(tmp_path / "patch+segmentation/checkpoints/last.safetensors")
    assert isinstance(patch_critic, Critic), note  # beside a PatchGAN, the PatchGAN judges
    critic, note = load_critic(tmp_path / "segmentation/checkpoints/last.safetensors")
    assert isinstance(critic, SegCritic), note
    ids, image = tiny_pairs(1, 32)[0]
    ids, image = ids[:30, :27], image[:30, :27]  # any size: padded to the multiple, cropped back
    result = critic.score(ids, image)
    assert result.probability.shape == (30, 27)
    photo = torch.from_numpy(np.pad(image, ((0, 2), (0, 5), (0, 0)), mode="edge").transpose(2, 0, 1)).float()
    with torch.no_grad():
        logits = critic.net(photo[None] / 127.5 - 1.0)[0, :, :30, :27]
    expected = 1.0 - torch.softmax(logits, dim=0)[FAKE_CHANNEL].numpy()
    np.testing.assert_allclose(result.probability, expected, atol=1e-6)
    assert 0.0 < result.mean < 1.0


def test_onnx_export_of_the_generator_of_a_seg_run(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from core.weights.onnx_export import export_onnx_bytes, max_abs_diff_ort, ort_session

    list(train(_seg(tiny_config(max_steps=2), "patch+segmentation", ema_decay=0.9), tmp_path / "run",
               sources=tiny_sources()))
    g = load_weights(tmp_path / "run/checkpoints/last.safetensors").model
    session = ort_session(export_onnx_bytes(g, torch.randn(1, 20, 32, 32)))
    assert max_abs_diff_ort(session, g, torch.randn(1, 20, 32, 48)) < 1e-4
