"""Run configs: TOML round trip and validation messages that name the setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import (
    DataConfig,
    DiscriminatorConfig,
    GeneratorConfig,
    RunConfig,
    TrainConfig,
    from_dict,
    load_run_config,
    save_run_config,
    to_dict,
)
from core.errors import ConfigError, UserError


def _custom_run() -> RunConfig:
    return RunConfig(
        name='my "run" \\ 1',
        generator=GeneratorConfig(depth=7, ngf=32, norm="instance", dropout=False, input_encoding="color"),
        discriminator=DiscriminatorConfig(ndf=32, n_layers=5, norm="instance"),
        data=DataConfig(path="/data/cityscapes", format="aligned", direction="AtoB",
                        load_size=(143, 286), crop_size=(128, 256), flip=False, val_fraction=0.25),
        train=TrainConfig(gan_mode="lsgan", lambda_l1=10.5, lr=1e-4, batch_size=4, epochs=3,
                          epochs_decay=0, max_steps=17, seed=42, device="cpu"),
        world_size=2,
    )


def test_toml_round_trip_is_exact(tmp_path: Path) -> None:
    cfg = _custom_run()
    path = tmp_path / "sub" / "config.toml"
    save_run_config(cfg, path)
    assert path.read_text(encoding="utf-8").startswith("# Road Studio run configuration")
    assert load_run_config(path) == cfg
    assert from_dict(RunConfig, to_dict(cfg)) == cfg


def test_defaults_round_trip(tmp_path: Path) -> None:
    save_run_config(RunConfig(), tmp_path / "c.toml")
    loaded = load_run_config(tmp_path / "c.toml")
    assert loaded == RunConfig()
    assert loaded.generator.ngf == 64 and loaded.generator.depth == 8
    assert loaded.train.lambda_l1 == 100.0 and loaded.train.lr == 2e-4 and loaded.train.beta1 == 0.5


def test_partial_toml_uses_defaults_for_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('name = "x"\n[generator]\nngf = 16\n', encoding="utf-8")
    cfg = load_run_config(path)
    assert cfg.generator == GeneratorConfig(ngf=16)
    assert cfg.train == TrainConfig()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: GeneratorConfig(norm="group"), "norm = 'group' is not one of batch, instance, none"),  # type: ignore[arg-type]  # invalid on purpose
        (lambda: GeneratorConfig(ngf=0), "ngf must be positive"),
        (lambda: GeneratorConfig(depth=11), "depth must be between 2 and 10"),
        (lambda: GeneratorConfig(input_encoding="rgb"), "input_encoding"),  # type: ignore[arg-type]  # invalid on purpose
        (lambda: DiscriminatorConfig(n_layers=7), "n_layers must be between 0 and 6"),
        (lambda: DataConfig(direction="up"), "direction = 'up'"),  # type: ignore[arg-type]  # invalid on purpose
        (lambda: DataConfig(load_size=(100, 100), crop_size=(128, 128)), "larger than load_size"),
        (lambda: DataConfig(val_fraction=1.0), "val_fraction"),
        (lambda: TrainConfig(lr=0), "lr must be positive"),
        (lambda: TrainConfig(device="tpu"), "device = 'tpu'"),  # type: ignore[arg-type]  # invalid on purpose
        (lambda: TrainConfig(epochs=0, epochs_decay=0), "epochs + epochs_decay"),
        (lambda: TrainConfig(beta1=1.0), "Adam betas"),
        (lambda: RunConfig(data=DataConfig(load_size=(300, 300), crop_size=(200, 200))),
         "must be a multiple of 256"),
    ],
)
def test_invalid_settings_name_the_setting(make, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        make()


def test_config_error_is_a_user_error() -> None:
    assert issubclass(ConfigError, UserError)


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[generator]\nngf = 8\nfilters = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml: unknown setting\(s\) for GeneratorConfig: filters"):
        load_run_config(path)


def test_broken_and_missing_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[generator\nngf = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_run_config(bad)
    with pytest.raises(ConfigError, match="nope.toml: no such config file"):
        load_run_config(tmp_path / "nope.toml")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('generator = "unet"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[generator\] must be a table"):
        load_run_config(wrong)


def test_derived_properties() -> None:
    assert GeneratorConfig(input_encoding="onehot").input_nc == 20
    assert GeneratorConfig(input_encoding="color").input_nc == 3
    assert GeneratorConfig(depth=7).size_multiple == 128
    assert TrainConfig(epochs=3, epochs_decay=4).total_epochs == 7
    assert RunConfig(train=TrainConfig(batch_size=3), world_size=4).effective_batch_size == 12
