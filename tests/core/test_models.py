"""The paper's networks: parameter counts of the reference, shapes, dropout, receptive fields."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.config import Arch, DiscriminatorConfig, Encoding, GeneratorConfig, NETG_PRESETS, Norm
from core.models import (
    PatchDiscriminator,
    UNetGenerator,
    build_discriminator,
    build_generator,
    count_parameters,
    init_weights,
)
from core.models.unet import DownBlock, UpBlock


def downs(g: UNetGenerator) -> list[DownBlock]:
    """The encoder blocks, typed (nn.ModuleList indexing is typed as any module)."""
    blocks = list(g.down)
    assert all(isinstance(b, DownBlock) for b in blocks)
    return [b for b in blocks if isinstance(b, DownBlock)]


def ups(g: UNetGenerator) -> list[UpBlock]:
    """The decoder blocks, typed (outermost first)."""
    blocks = list(g.up)
    assert all(isinstance(b, UpBlock) for b in blocks)
    return [b for b in blocks if isinstance(b, UpBlock)]


def test_unet_256_has_the_reference_parameter_count() -> None:
    cfg = GeneratorConfig(arch="unet", depth=8, ngf=64, norm="batch", input_encoding="color")
    assert count_parameters(build_generator(cfg, init=False)) == 54_413_955


def test_basic_discriminator_has_the_reference_parameter_count() -> None:
    d = build_discriminator(DiscriminatorConfig(ndf=64, n_layers=3, norm="batch"),
                            GeneratorConfig(input_encoding="color"), init=False)
    first = d.model[0] if isinstance(d, PatchDiscriminator) else None
    assert isinstance(first, nn.Conv2d) and first.in_channels == 6
    assert count_parameters(d) == 2_768_705


def test_presets() -> None:
    assert NETG_PRESETS["unet_256"] == ("unet", 8)
    assert NETG_PRESETS["unet_128"] == ("unet", 7)


@pytest.mark.parametrize("n_layers, expected", [(0, 1), (1, 16), (3, 70), (5, 286)])
def test_discriminator_receptive_field_measured_by_gradient(n_layers: int, expected: int) -> None:
    cfg = DiscriminatorConfig(ndf=4, n_layers=n_layers, norm="batch")
    assert cfg.receptive_field == expected
    torch.manual_seed(0)
    d = PatchDiscriminator(cfg, input_nc=2)
    init_weights(d)
    d.eval()
    size = 320 if n_layers == 5 else 96
    x = torch.randn(1, 2, size, size, requires_grad=True)
    out = d(x)
    i, j = out.shape[2] // 2, out.shape[3] // 2
    out[0, 0, i, j].backward()
    assert x.grad is not None
    touched = x.grad.abs().sum(dim=(0, 1)) > 0  # (H, W) pixels that reach this one output
    rows = touched.any(dim=1).nonzero().squeeze(1)
    cols = touched.any(dim=0).nonzero().squeeze(1)
    assert int(rows[-1] - rows[0] + 1) == expected
    assert int(cols[-1] - cols[0] + 1) == expected


@pytest.mark.parametrize("n_layers, side", [(0, 64), (1, 30), (3, 6), (5, 0)])
def test_discriminator_output_shape(n_layers: int, side: int) -> None:
    d = PatchDiscriminator(DiscriminatorConfig(ndf=4, n_layers=n_layers), input_nc=23).eval()
    size = 64 if n_layers < 5 else 128
    out = d(torch.zeros(2, 23, size, size))
    expected = {0: 64, 1: 30, 3: 6, 5: 128 // 32 - 2}[n_layers]
    assert out.shape == (2, 1, expected, expected)


@pytest.mark.parametrize("arch", ["unet", "encoder_decoder"])
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
@pytest.mark.parametrize("encoding", ["onehot", "color"])
def test_generator_output_shape_and_range(arch: Arch, norm: Norm, encoding: Encoding) -> None:
    cfg = GeneratorConfig(arch=arch, depth=4, ngf=4, norm=norm, input_encoding=encoding)
    g = build_generator(cfg).eval()
    x = torch.rand(2, cfg.input_nc, 32, 48) * 2 - 1
    with torch.no_grad():
        y = g(x)
    assert y.shape == (2, 3, 32, 48)
    assert y.min() >= -1 and y.max() <= 1  # Tanh out


def test_skips_matter_in_unet_only() -> None:
    unet = build_generator(GeneratorConfig(arch="unet", depth=4, ngf=4))
    ed = build_generator(GeneratorConfig(arch="encoder_decoder", depth=4, ngf=4))
    # the up convs of a U-Net take the skip as well: twice the channels except innermost
    assert ups(unet)[0].conv.in_channels == 2 * ups(ed)[0].conv.in_channels
    assert ups(unet)[3].conv.in_channels == ups(ed)[3].conv.in_channels
    assert count_parameters(unet) > count_parameters(ed)


def _dropout_levels(g: UNetGenerator) -> list[int]:
    return [level for level, up in enumerate(ups(g)) if isinstance(up.dropout, nn.Dropout)]


def test_dropout_sits_in_the_three_innermost_up_blocks_of_unet_256() -> None:
    g = build_generator(GeneratorConfig(depth=8, ngf=2), init=False)
    assert _dropout_levels(g) == [4, 5, 6]  # level 7 is the innermost block, as in the reference
    assert all(isinstance(up.dropout, nn.Dropout) and up.dropout.p == 0.5 for up in ups(g)[4:7])
    assert _dropout_levels(build_generator(GeneratorConfig(depth=7, ngf=2), init=False)) == [4, 5]
    assert _dropout_levels(build_generator(GeneratorConfig(depth=8, ngf=2, dropout=False), init=False)) == []


def test_dropout_is_noise_in_train_mode_and_off_in_eval_mode() -> None:
    torch.manual_seed(0)
    g = build_generator(GeneratorConfig(depth=8, ngf=4, norm="instance"))
    x = torch.rand(1, 20, 256, 256)
    with torch.no_grad():
        g.eval()
        assert torch.equal(g(x), g(x))
        g.train()
        assert not torch.equal(g(x), g(x))


def test_layer_layout_of_unet_256() -> None:
    g = build_generator(GeneratorConfig(depth=8, ngf=64, norm="batch", input_encoding="color"), init=False)
    # outermost: conv only down, ConvT + Tanh up with a bias
    assert isinstance(g.down[0].act, nn.Identity) and isinstance(g.down[0].norm, nn.Identity)
    assert downs(g)[0].conv.in_channels == 3 and downs(g)[0].conv.out_channels == 64
    assert isinstance(ups(g)[0].norm, nn.Tanh) and ups(g)[0].conv.bias is not None
    # innermost: no norm on the down side; 512 -> 512
    assert isinstance(g.down[7].norm, nn.Identity)
    assert ups(g)[7].conv.in_channels == 512 and ups(g)[7].conv.out_channels == 512
    # BatchNorm convs carry no bias (BN's shift replaces it)
    assert downs(g)[3].conv.bias is None and isinstance(downs(g)[3].norm, nn.BatchNorm2d)
    for m in g.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            assert m.kernel_size == (4, 4) and m.stride == (2, 2) and m.padding == (1, 1)
    assert [b.conv.out_channels for b in downs(g)] == [64, 128, 256, 512, 512, 512, 512, 512]


def test_init_is_normal_0_02_and_seeded() -> None:
    torch.manual_seed(3)
    a = build_generator(GeneratorConfig(depth=5, ngf=16))
    torch.manual_seed(3)
    b = build_generator(GeneratorConfig(depth=5, ngf=16))
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    w = torch.cat([m.weight.detach().flatten() for m in a.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(float(w.mean())) < 1e-3 and float(w.std()) == pytest.approx(0.02, rel=0.05)
    bn = torch.cat([m.weight.detach() for m in a.modules() if isinstance(m, nn.BatchNorm2d)])
    assert float(bn.mean()) == pytest.approx(1.0, abs=0.01)
