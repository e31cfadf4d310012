"""Generators saved by the reference pix2pix code import into our flat layout and compute the
same function.

The reference architecture is re-implemented here from its documented structure (recursive
UnetSkipConnectionBlock, in-place activations included), so the test checks our key mapping
against an independent nesting, not against our own layout.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from core.weights.checkpoints import import_reference_generator, load_any_generator, load_weights, save_weights
from core.config import DiscriminatorConfig, GeneratorConfig, Norm
from core.errors import CheckpointError, ConfigError
from core.models import build_discriminator
from core.weights.reference_import import convert_reference_state_dict, level_prefix


class RefBlock(nn.Module):
    """One level of the reference U-Net; the next inner level sits inside `self.model`."""

    def __init__(self, outer_nc: int, inner_nc: int, *, input_nc: int | None = None,
                 submodule: nn.Module | None = None, outermost: bool = False, innermost: bool = False,
                 norm: str = "batch", use_dropout: bool = False) -> None:
        super().__init__()
        self.outermost = outermost
        use_bias = norm == "instance"

        def norm_layer(ch: int) -> nn.Module:
            if norm == "batch":
                return nn.BatchNorm2d(ch, affine=True, track_running_stats=True)
            return nn.InstanceNorm2d(ch, affine=False, track_running_stats=False)

        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        uprelu = nn.ReLU(True)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            layers: list[nn.Module] = [downconv, submodule, uprelu, upconv, nn.Tanh()]  # type: ignore[list-item]  # submodule: the reference's Optional
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            layers = [downrelu, downconv, uprelu, upconv, norm_layer(outer_nc)]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            layers = [downrelu, downconv, norm_layer(inner_nc), submodule, uprelu, upconv,  # type: ignore[list-item]  # as above
                      norm_layer(outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)  # x was already changed in place by downrelu


class RefUnet(nn.Module):
    def __init__(self, num_downs: int, ngf: int, norm: str, input_nc: int = 3, output_nc: int = 3) -> None:
        super().__init__()
        block = RefBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = RefBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, use_dropout=True)
        block = RefBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
        block = RefBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
        block = RefBlock(ngf, ngf * 2, submodule=block, norm=norm)
        self.model = RefBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def _random_reference(num_downs: int, norm: str, ngf: int = 4, seed: int = 0) -> RefUnet:
    torch.manual_seed(seed)
    ref = RefUnet(num_downs, ngf, norm)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
        for m in ref.modules():
            if isinstance(m, nn.BatchNorm2d):
                assert m.running_mean is not None and m.running_var is not None and m.num_batches_tracked is not None
                m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.1)
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
                m.num_batches_tracked.fill_(123)
    return ref.eval()


def _save_reference(ref: nn.Module, tmp_path: Path, name: str = "latest_net_G.pth") -> Path:
    path = tmp_path / name
    torch.save(ref.state_dict(), path)
    return path


@pytest.mark.parametrize("netG, num_downs, size", [("unet_256", 8, 256), ("unet_128", 7, 128)])
@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_imported_generator_computes_the_same_as_the_reference(
        tmp_path: Path, netG: str, num_downs: int, size: int, norm: Norm) -> None:
    ref = _random_reference(num_downs, norm)
    path = _save_reference(ref, tmp_path)
    keys = set(ref.state_dict())
    assert "model.model.0.weight" in keys and "model.model.3.bias" in keys
    assert f"{level_prefix(2)}5.weight" == "model.model.1.model.3.model.5.weight"
    assert (f"{level_prefix(2)}6.weight" in keys) == (norm == "batch")

    loaded = import_reference_generator(path, netG, norm)
    assert loaded.config == GeneratorConfig(arch="unet", depth=num_downs, ngf=4, norm=norm,
                                            dropout=True, input_encoding="color", output_nc=3)
    assert loaded.card["imported_as"] == f"{netG}, {norm} norm" and "reference" in loaded.card["source"]
    assert not loaded.model.training

    x = torch.rand(2, 3, size, size) * 2 - 1
    with torch.no_grad():
        expected = ref(x.clone())  # clone: the reference's in-place LeakyReLU may touch its input
        got = loaded.model(x)
    assert float((got - expected).abs().max()) < 1e-6
    # a non-constant output, so equality means something
    assert float(expected.std()) > 0.01

    # and it survives our own weights format
    save_weights(tmp_path / "imported.safetensors", loaded.model, loaded.config, loaded.card)
    again = load_weights(tmp_path / "imported.safetensors")
    with torch.no_grad():
        assert torch.equal(again.model(x), got)


def test_module_prefix_and_old_batchnorm_without_counters(tmp_path: Path) -> None:
    ref = _random_reference(7, "batch")
    state = {f"module.{k}": v for k, v in ref.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "G.pth"
    torch.save(state, path)
    loaded = import_reference_generator(path, "unet_128", "batch")
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        assert float((loaded.model(x) - ref(x.clone())).abs().max()) < 1e-6


def test_instance_norm_running_stats_are_dropped() -> None:
    ref = _random_reference(7, "instance")
    state = dict(ref.state_dict())
    # old PyTorch InstanceNorm tracked running stats; our InstanceNorm has none
    state[f"{level_prefix(1)}2.running_mean"] = torch.zeros(8)
    state[f"{level_prefix(1)}2.running_var"] = torch.ones(8)
    out = convert_reference_state_dict(state, 7, "instance")
    assert not any("running" in k for k in out)
    assert "down.1.conv.bias" in out and "up.0.conv.bias" in out


def test_load_any_generator_dispatches_reference_files(tmp_path: Path) -> None:
    path = _save_reference(_random_reference(7, "batch"), tmp_path)
    loaded = load_any_generator(path, reference_netG="unet_128", reference_norm="batch")
    assert loaded.config.depth == 7
    with pytest.raises(CheckpointError, match="import-reference"):
        load_any_generator(path)  # without saying it is a reference file


def test_unet_128_weights_imported_as_unet_256_are_refused(tmp_path: Path) -> None:
    path = _save_reference(_random_reference(7, "batch"), tmp_path)
    with pytest.raises(CheckpointError, match=r"latest_net_G\.pth: .*unet_128 generator.*use --netG unet_128"):
        import_reference_generator(path, "unet_256", "batch")


def test_wrong_norm_is_named(tmp_path: Path) -> None:
    path = _save_reference(_random_reference(7, "instance"), tmp_path)
    with pytest.raises(CheckpointError, match="--norm instance"):
        import_reference_generator(path, "unet_128", "batch")
    path = _save_reference(_random_reference(7, "batch"), tmp_path, "bn.pth")
    with pytest.raises(CheckpointError, match="--norm batch"):
        import_reference_generator(path, "unet_128", "instance")


def test_discriminator_state_dict_is_refused(tmp_path: Path) -> None:
    d = build_discriminator(DiscriminatorConfig(ndf=4), GeneratorConfig(input_encoding="color"))
    path = tmp_path / "latest_net_D.pth"
    torch.save(d.state_dict(), path)
    with pytest.raises(CheckpointError, match=r"latest_net_D\.pth: not a reference pix2pix U-Net.*discriminator"):
        import_reference_generator(path, "unet_256", "batch")


def test_unexpected_keys_are_named(tmp_path: Path) -> None:
    state = dict(_random_reference(7, "batch").state_dict())
    state["model.model.1.model.9.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=r"unexpected keys.*model\.model\.1\.model\.9\.weight"):
        convert_reference_state_dict(state, 7, "batch", source=tmp_path / "x.pth")


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this ran code",))


def test_bad_files_are_refused_with_the_file_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = tmp_path / "evil.pth"
    buf = io.BytesIO()
    torch.save({"model.model.0.weight": torch.zeros(1), "x": _Evil()}, buf)
    evil.write_bytes(buf.getvalue())
    with pytest.raises(CheckpointError, match=r"evil\.pth: refused to load: .*could run code \(it references "
                                              r"(builtins\.)?print\)") as info:
        import_reference_generator(evil, "unet_256", "batch")
    # What was refused and why, never torch's advice to load it unsafely or allow-list the global.
    assert not any(w in str(info.value) for w in ("weights_only", "False", "safe_globals", "trust"))
    assert "this ran code" not in capsys.readouterr().out

    raw_pickle = tmp_path / "raw.pth"
    raw_pickle.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(CheckpointError, match=r"raw\.pth: not a PyTorch weights file.*refused"):
        import_reference_generator(raw_pickle, "unet_256", "batch")
    assert "this ran code" not in capsys.readouterr().out

    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty\.pth: the file is empty"):
        import_reference_generator(empty, "unet_256", "batch")
    with pytest.raises(CheckpointError, match=r"missing\.pth: no such file"):
        import_reference_generator(tmp_path / "missing.pth", "unet_256", "batch")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file at all" * 10)
    with pytest.raises(CheckpointError, match=r"garbage\.pth: not a PyTorch weights file"):
        import_reference_generator(garbage, "unet_256", "batch")
    tensor_file = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), tensor_file)
    with pytest.raises(CheckpointError, match=r"tensor\.pth: not a plain state dict"):
        import_reference_generator(tensor_file, "unet_256", "batch")


def test_unknown_choices_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="netG = 'resnet_9blocks'"):
        import_reference_generator(tmp_path / "x.pth", "resnet_9blocks", "batch")
    with pytest.raises(ConfigError, match="norm = 'none'"):
        import_reference_generator(tmp_path / "x.pth", "unet_256", "none")
