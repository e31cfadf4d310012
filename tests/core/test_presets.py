"""Named training recipes (core.train.presets), `roadstudio-cli train --preset`, and the bundled
default model: it loads, fits the size budget and renders a sample scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.weights.checkpoints import load_weights
from core.cli import build_parser
from core.cli.train_cmd import build_config
from core.config import RunConfig, load_run_config, save_run_config
from core.errors import ConfigError, UserError
from core.io.imageio import read_label_ids
from core.render.infer import Predictor
from core.models import build_discriminator, build_generator, count_parameters
from core.train.presets import HELD_OUT_CLIP, HELD_OUT_FRAME, PRESETS, preset_config
from core.io.resources import resource_path

DEFAULT_MODEL = resource_path("models", "default.safetensors")
MAX_MODEL_BYTES = 30 * 1024 * 1024


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_a_valid_config_that_survives_toml(name: str, tmp_path: Path) -> None:
    cfg = preset_config(name)
    assert isinstance(cfg, RunConfig) and cfg.name == name
    save_run_config(cfg, tmp_path / "run.toml")
    assert load_run_config(tmp_path / "run.toml") == cfg
    assert PRESETS[name].title and PRESETS[name].description


def test_paper_preset_has_the_papers_settings() -> None:
    cfg = preset_config("paper")
    assert (cfg.generator.arch, cfg.generator.depth, cfg.generator.ngf, cfg.generator.norm) == ("unet", 8, 64, "batch")
    assert cfg.generator.dropout
    assert (cfg.discriminator.ndf, cfg.discriminator.receptive_field) == (64, 70)
    assert (cfg.train.lambda_l1, cfg.train.epochs, cfg.train.epochs_decay, cfg.train.batch_size) == (100.0, 100, 100, 1)
    assert (cfg.train.gan_mode, cfg.train.lr, cfg.train.beta1) == ("vanilla", 2e-4, 0.5)
    assert (cfg.data.load_size, cfg.data.crop_size, cfg.data.preprocess) == ((286, 286), (256, 256), "resize_and_crop")
    # The paper's generator with colour input: the parameter count of the reference unet_256.
    assert count_parameters(build_generator(cfg.generator)) == 54_413_955
    assert count_parameters(build_discriminator(cfg.discriminator, cfg.generator)) == 2_768_705


def test_default_model_recipe_trains_on_real_photos_and_keeps_one_frame_out() -> None:
    cfg = preset_config("default-model")
    data = cfg.data
    # CamVid train + val (its test split stays for `eval`), plus the Cityscapes frames
    assert data.path.endswith("camvid") and data.train_splits == ("train", "val")
    assert data.extra_paths and data.extra_paths[0].endswith("cityscapes-mini") and data.preprocess == "multiscale_crop"
    assert any(HELD_OUT_FRAME in pattern for pattern in data.exclude)
    # the variant docs/output_quality.md measured best: no checkerboard decoder, pix2pixHD discriminator
    assert cfg.generator.upsample == "resize" and cfg.discriminator.scales == 2 and cfg.train.lambda_feat > 0


def test_every_brush_recipe_fine_tunes_the_bundled_model_holds_out_a_clip_and_boosts_rare_classes() -> None:
    cfg = preset_config("every-brush")
    data = cfg.data
    assert [Path(p).name for p in data.extra_paths] == ["cityscapes-seq", "cityscapes-mini"]
    assert data.extra_repeats == (1, 8) and any(HELD_OUT_FRAME in p for p in data.exclude)
    # a whole video clip validates (never single frames of a clip)
    assert any(HELD_OUT_CLIP in pattern for pattern in data.holdout)
    assert data.rare_threshold > 0 and data.painted_share == 0.0  # measured: docs/output_quality.md
    assert cfg.generator.modulation == "clade" and cfg.train.ema_decay > 0
    assert cfg.train.init_from == "default" and cfg.train.lr < preset_config("default-model").train.lr
    # otherwise the default model's architecture
    base = preset_config("default-model")
    assert (cfg.generator.depth, cfg.generator.ngf, cfg.generator.upsample) == (
        base.generator.depth, base.generator.ngf, base.generator.upsample)


def test_unknown_preset_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="default-model"):
        preset_config("nope")


def test_cli_preset_is_the_base_and_flags_override_it() -> None:
    parser = build_parser()
    args = parser.parse_args(["train", "--preset", "default-model", "--run-dir", "x", "--max-steps", "7",
                              "--extra-data", "/data/cs", "--ngf", "8"])
    cfg = build_config(args)
    base = preset_config("default-model")
    assert cfg.train.max_steps == 7 and cfg.generator.ngf == 8
    assert cfg.data.extra_paths == ("/data/cs",)
    assert cfg.data.exclude == base.data.exclude and cfg.discriminator == base.discriminator
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--preset", "nope", "--run-dir", "x"])


def test_cli_preset_and_config_together_is_a_user_error(tmp_path: Path) -> None:
    save_run_config(RunConfig(), tmp_path / "c.toml")
    args = build_parser().parse_args(["train", "--preset", "paper", "--config", str(tmp_path / "c.toml"),
                                      "--run-dir", "x"])
    with pytest.raises(UserError, match="either --preset or --config"):
        build_config(args)


# ----------------------------------------------------------------------- the bundled model

needs_model = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="resources/models/default.safetensors not built")


@needs_model
def test_default_model_loads_fits_the_budget_and_says_what_it_is() -> None:
    assert DEFAULT_MODEL.stat().st_size <= MAX_MODEL_BYTES
    loaded = load_weights(DEFAULT_MODEL)
    # version 0.3: the every-brush recipe fine-tuned from version 0.2
    assert loaded.config == preset_config("every-brush").generator
    assert str(loaded.card.get("init_from", "")).startswith("version 0.2 default.safetensors")
    assert "non-commercial" in str(loaded.card.get("license", ""))


@needs_model
def test_default_model_renders_a_sample_scene() -> None:
    ids = read_label_ids(resource_path("samples", "city_street.png"))
    image = Predictor.from_path(DEFAULT_MODEL, "cpu").predict(ids)
    assert image.shape == (*ids.shape, 3) and image.dtype == np.uint8
    assert float(image.std()) > 20.0  # a scene, not a flat grey image
    # The sky (id 23) comes out brighter than the road (id 7), as in every street photo.
    sky, road = ids == 23, ids == 7
    assert sky.any() and road.any()
    assert image[sky].mean() > image[road].mean()
