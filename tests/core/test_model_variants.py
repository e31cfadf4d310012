"""The generator and discriminator variants of issue 11: the resize-convolution decoder (no
checkerboard), pix2pixHD's multi-scale PatchGAN and feature-matching loss. The paper's setup stays
parameter-exact; every variant trains, resumes bit-identically, saves, folds and exports."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from core.weights.checkpoints import load_weights, save_weights
from core.config import DiscriminatorConfig, GeneratorConfig, load_run_config, RunConfig, TrainConfig, Upsample
from core.errors import ConfigError
from core.models import (
    MultiScaleDiscriminator, PatchDiscriminator, build_discriminator, build_generator, count_parameters,
)
from core.train.events import Finished, Step
from core.train.loop import train
from core.train.losses import GANLoss, feature_matching_loss, gan_loss_over_scales
from tests.core.test_checkpoint_state import assert_identical
from tests.core.test_models import ups
from tests.core.train_helpers import spread_batchnorm_stats, tiny_config, tiny_sources, straight_and_resumed

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROAD = 7


def _trained_like(net: nn.Module, seed: int = 0) -> nn.Module:
    """Weights far from the N(0, 0.02) init and real BatchNorm statistics, as after training."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.normal_(0.0, 0.15)
                if m.bias is not None:
                    m.bias.uniform_(-0.1, 0.1)
            if isinstance(m, nn.BatchNorm2d):
                spread_batchnorm_stats(m, 0.2, (0.5, 1.5))
    return net.eval()


def _uniform_road(size: int = 64) -> torch.Tensor:
    from core.models.encoding import encode_labels

    return encode_labels(torch.full((1, size, size), ROAD, dtype=torch.uint8), "onehot")


def _period2_contrast(image: torch.Tensor, margin: int = 40) -> float:
    """How much even and odd columns/rows differ in the interior of an image: the signature of a
    stride-2 transposed convolution on a flat input (0 for a flat image)."""
    inner = image[0, :, margin:-margin, margin:-margin]
    cols = (inner[:, :, 0::2] - inner[:, :, 1::2]).abs().mean()
    rows = (inner[:, 0::2, :] - inner[:, 1::2, :]).abs().mean()
    return float(cols + rows)


def test_resize_decoder_renders_a_flat_label_map_without_a_grid_and_transpose_does_not() -> None:
    x = _uniform_road(128)
    out = {}
    for upsample in ("transpose", "resize"):
        # depth 3: the zero padding's influence stays within the 40 px margin
        g = _trained_like(build_generator(GeneratorConfig(depth=3, ngf=8, upsample=upsample)))
        with torch.no_grad():
            out[upsample] = g(x)
    # A flat input gives a flat interior through resize + 3×3 convs (borders aside); transposed
    # convolutions alternate their kernel taps between neighbouring pixels: a period-2 grid.
    assert _period2_contrast(out["resize"]) < 1e-5
    assert _period2_contrast(out["transpose"]) > 1e-2


def test_resize_decoder_has_no_transposed_convolutions_and_fewer_parameters() -> None:
    paper = build_generator(GeneratorConfig(depth=8, ngf=64, input_encoding="color"))
    resize = build_generator(GeneratorConfig(depth=8, ngf=64, input_encoding="color", upsample="resize"))
    assert count_parameters(paper) == 54_413_955  # the paper's unet_256 is unchanged
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in resize.modules())
    assert all(isinstance(block.conv, nn.Conv2d) and block.conv.kernel_size == (3, 3) for block in ups(resize))
    # Each decoder conv has 3×3 instead of 4×4 taps; encoder, norms and biases are shared.
    decoder_t = sum(b.conv.weight.numel() for b in ups(paper))
    decoder_r = sum(b.conv.weight.numel() for b in ups(resize))
    assert decoder_r * 16 == decoder_t * 9
    assert count_parameters(paper) - count_parameters(resize) == decoder_t - decoder_r
    # same state-dict keys: tools that walk `up[L].conv` / `up[L].norm` see both alike
    assert paper.state_dict().keys() == resize.state_dict().keys()


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_output_shape_range_for_any_multiple_size(upsample: Upsample) -> None:
    g = build_generator(GeneratorConfig(depth=5, ngf=4, upsample=upsample)).eval()
    with torch.no_grad():
        y = g(torch.randn(2, 20, 64, 96))
    assert y.shape == (2, 3, 64, 96) and float(y.abs().max()) <= 1.0


def test_upsample_is_validated_and_recorded_in_the_weights_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="upsample"):
        GeneratorConfig(upsample="bilinear-ish")  # type: ignore[arg-type]  # deliberately invalid
    cfg = GeneratorConfig(depth=4, ngf=4, upsample="resize")
    g = _trained_like(build_generator(cfg))
    path = tmp_path / "g.safetensors"
    save_weights(path, g, cfg, card={"run": "t"})
    loaded = load_weights(path)
    assert loaded.config == cfg and loaded.config.upsample == "resize"
    for key, value in g.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key]), key


def test_weights_written_before_the_option_existed_load_as_transpose(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    cfg = GeneratorConfig(depth=4, ngf=4)
    path = tmp_path / "old.safetensors"
    save_weights(path, build_generator(cfg), cfg, card={})
    # rewrite the metadata without the new key, as a 0.1 checkpoint has it
    from safetensors import safe_open
    with safe_open(str(path), "pt") as fh:
        meta = dict(fh.metadata())
    import json
    key = next(k for k, v in meta.items() if '"ngf"' in v)
    config = json.loads(meta[key])
    del config["upsample"]
    meta[key] = json.dumps(config)
    save_file(load_file(str(path)), str(path), metadata=meta)
    assert load_weights(path).config.upsample == "transpose"


def test_multiscale_discriminator_judges_the_image_at_halved_scales() -> None:
    gcfg = GeneratorConfig()
    single = build_discriminator(DiscriminatorConfig(ndf=8, n_layers=3), gcfg)
    multi = build_discriminator(DiscriminatorConfig(ndf=8, n_layers=3, scales=3), gcfg)
    assert isinstance(single, PatchDiscriminator) and isinstance(multi, MultiScaleDiscriminator)
    assert count_parameters(multi) == 3 * count_parameters(single)
    x = torch.randn(1, 23, 128, 256)
    logits = multi(x)
    # 70×70 PatchGAN on 128×256, 64×128 and 32×64 inputs
    assert [tuple(t.shape) for t in logits] == [(1, 1, 14, 30), (1, 1, 6, 14), (1, 1, 2, 6)]
    feats = multi(x, return_features=True)
    assert len(feats) == 3 and all(len(f) == 5 for f in feats)  # 4 LeakyReLU activations + logits
    for per_scale, direct in zip(feats, logits, strict=True):
        assert torch.equal(per_scale[-1], direct)
    # the single PatchGAN keeps the paper's state-dict layout and returns plain logits
    assert all(k.startswith("model.") for k in single.state_dict())
    assert isinstance(single(x), torch.Tensor)
    assert torch.equal(single(x, return_features=True)[0][-1], single(x))
    with pytest.raises(ConfigError, match="scales"):
        DiscriminatorConfig(scales=0)


def test_gan_loss_over_one_scale_is_the_plain_loss_and_feature_matching_is_zero_on_equal_inputs() -> None:
    gan = GANLoss("vanilla")
    logits = torch.randn(2, 1, 6, 6)
    assert torch.equal(gan_loss_over_scales(gan, [[logits]], True), gan(logits, True))
    two = gan_loss_over_scales(gan, [[logits], [logits * 2]], False)
    assert math.isclose(float(two), float(0.5 * (gan(logits, False) + gan(logits * 2, False))), rel_tol=1e-6)
    d = build_discriminator(DiscriminatorConfig(ndf=4, n_layers=2, scales=2), GeneratorConfig())
    x = torch.randn(1, 23, 64, 64)
    with torch.no_grad():
        same = feature_matching_loss(d(x, return_features=True), d(x, return_features=True))
        other = feature_matching_loss(d(x, return_features=True), d(x + 1.0, return_features=True))
    assert float(same) == 0.0 and float(other) > 0.01


def _variant(**kw) -> RunConfig:
    cfg = tiny_config(size=64, depth=6, ngf=4, ndf=4, epochs=2, epochs_decay=2, checkpoint_every=3, sample_every=2)
    return cfg.replace(generator=dataclasses.replace(cfg.generator, upsample="resize"),
                       discriminator=dataclasses.replace(cfg.discriminator, scales=2),
                       train=dataclasses.replace(cfg.train, lambda_feat=10.0, **kw))


def test_pix2pixhd_variant_trains_reports_feature_loss_and_records_it(tmp_path: Path) -> None:
    cfg = _variant()
    events = list(train(cfg, tmp_path / "run", sources=tiny_sources(count=4, size=64)))
    steps = [e for e in events if isinstance(e, Step)]
    assert steps and all(set(s.losses) == {"G_GAN", "G_L1", "D_real", "D_fake", "G_feat"} for s in steps)
    assert all(math.isfinite(v) and v > 0 for s in steps for v in s.losses.values())
    saved = load_run_config(tmp_path / "run/config.toml")
    assert saved.generator.upsample == "resize" and saved.discriminator.scales == 2
    assert saved.train.lambda_feat == 10.0
    weights = load_weights(tmp_path / "run/checkpoints/last.safetensors")
    assert weights.config.upsample == "resize" and weights.card["d_scales"] == 2
    # the paper's loss set without feature matching
    plain = list(train(tiny_config(max_steps=1), tmp_path / "plain", sources=tiny_sources()))
    assert set(next(e for e in plain if isinstance(e, Step)).losses) == {"G_GAN", "G_L1", "D_real", "D_fake"}


def test_pix2pixhd_variant_resumes_bit_identical(tmp_path: Path) -> None:
    events, cut_step, straight, resumed = straight_and_resumed(_variant(), tmp_path,
                                                               {"count": 5, "val": 2, "size": 64}, 5)
    assert isinstance(events[-1], Finished) and cut_step == 3
    assert_identical(straight, resumed)


def test_batchnorm_fold_is_exact_for_the_resize_decoder() -> None:
    from core.render.fast.fold import fold_batchnorm

    g = _trained_like(build_generator(GeneratorConfig(depth=5, ngf=4, upsample="resize")))
    folded = fold_batchnorm(g)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(1, 20, 64, 96)
    with torch.no_grad():
        expected = g(x)
        # float32 rounding only (the app accepts a fast path within 1e-3 of eager)
        assert float((folded(x) - expected).abs().max()) < 1e-4
        assert float(expected.std()) > 0.05


def test_onnx_export_of_the_resize_decoder_matches_eager(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from core.weights.onnx_export import export_onnx_bytes, max_abs_diff_ort, ort_session

    cfg = GeneratorConfig(depth=5, ngf=4, upsample="resize")
    g = _trained_like(build_generator(cfg))
    session = ort_session(export_onnx_bytes(g, torch.randn(1, 20, 64, 96)))
    # dynamic axes: another size than the traced one
    assert max_abs_diff_ort(session, g, torch.randn(1, 20, 96, 160)) < 1e-4


def test_presets_keep_the_paper_decoder_and_a_single_patchgan() -> None:
    from core.train.presets import preset_config

    paper = preset_config("paper")
    assert paper.generator.upsample == "transpose" and paper.discriminator.scales == 1
    assert paper.train.lambda_feat == 0.0
    assert TrainConfig().lambda_feat == 0.0 and DiscriminatorConfig().scales == 1
