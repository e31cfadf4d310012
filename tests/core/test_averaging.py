"""Checkpoint averaging (`roadstudio-cli average`, core.weights.averaging): the written generator holds the
exact element-wise mean, renders, says what it was made from, and every bad request is a named
error with exit code 2 that writes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.weights.averaging import average_generators, run_checkpoints
from core.weights.checkpoints import load_weights, save_training_state, save_weights
from core.cli import main
from core.config import GeneratorConfig, to_dict
from core.errors import CheckpointError
from core.render.infer import Predictor
from core.models import build_generator
from tests.core.train_helpers import spread_batchnorm_stats

CFG = GeneratorConfig(depth=3, ngf=4)


def _checkpoint(path: Path, seed: int, step: int, cfg: GeneratorConfig = CFG) -> Path:
    torch.manual_seed(seed)
    g = build_generator(cfg)
    with torch.no_grad():  # distinct BatchNorm statistics per checkpoint, so they are averaged too
        for m in g.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                spread_batchnorm_stats(m, 1, (0.5, 2), batches=step)
    return save_weights(path, g, cfg, {"run": "r", "step": step})


def _run_folder(tmp_path: Path, steps: list[int]) -> Path:
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    for i, step in enumerate(steps):
        _checkpoint(folder / f"step_{step:07d}.safetensors", seed=i, step=step)
    return tmp_path / "run"


def test_the_average_is_the_element_wise_mean_of_every_weight_and_batchnorm_statistic(tmp_path: Path) -> None:
    paths = [_checkpoint(tmp_path / f"{s}.safetensors", seed=s, step=s * 100) for s in (1, 2, 3)]
    out = tmp_path / "mean.safetensors"
    assert main(["average", *map(str, paths), "--output", str(out)]) == 0

    states = [load_weights(p).model.state_dict() for p in paths]
    averaged = load_weights(out)
    result = averaged.model.state_dict()
    assert set(result) == set(states[0])
    for key, value in result.items():
        if value.dtype.is_floating_point:
            expected = sum(s[key].double() for s in states) / 3
            torch.testing.assert_close(value.double(), expected, rtol=0, atol=1e-6)
            assert not torch.equal(value, states[0][key]) or torch.equal(states[0][key], states[1][key])
        else:  # BatchNorm's batch counters come from the newest checkpoint
            assert torch.equal(value, states[2][key])
    assert "running_mean" in " ".join(result)  # the statistics were part of the comparison
    assert averaged.config == CFG
    assert averaged.card["step"] == 300
    assert averaged.card["averaged_steps"] == "100–300"
    assert averaged.card["averaged_from"]["checkpoints"] == [p.name for p in paths]


def test_an_averaged_generator_renders_like_any_other(tmp_path: Path) -> None:
    paths = [_checkpoint(tmp_path / f"{s}.safetensors", seed=s, step=s) for s in (1, 2)]
    averaged = average_generators(paths)
    out = save_weights(tmp_path / "mean.safetensors", averaged.model, averaged.config, averaged.card)
    ids = np.zeros((16, 24), np.uint8)
    ids[:, 12:] = 7
    photo = Predictor.from_path(out, "cpu").predict(ids)
    assert photo.shape == (16, 24, 3) and photo.dtype == np.uint8
    single = Predictor.from_path(paths[0], "cpu").predict(ids)
    assert not np.array_equal(photo, single)


def test_a_run_folder_and_step_range_select_the_checkpoints_in_step_order(tmp_path: Path) -> None:
    run = _run_folder(tmp_path, [1000, 2000, 3000, 4000])
    # a full training state beside a weights file of the same step: the weights file is used
    save_training_state(run / "checkpoints" / "step_0002000.pt", {"generator": {}})
    (run / "checkpoints" / "last.safetensors").write_bytes(b"")  # not a step checkpoint
    chosen = run_checkpoints(run, 2000, 3000)
    assert [p.name for p in chosen] == ["step_0002000.safetensors", "step_0003000.safetensors"]

    out = tmp_path / "mean.safetensors"
    assert main(["average", "--run", str(run), "--from-step", "2000", "--output", str(out)]) == 0
    assert load_weights(out).card["averaged_steps"] == "2000–4000"


def test_checkpoints_of_another_architecture_are_refused_naming_the_file(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    a = _checkpoint(tmp_path / "a.safetensors", seed=0, step=1)
    other = GeneratorConfig(depth=3, ngf=8)
    b = _checkpoint(tmp_path / "b.safetensors", seed=1, step=2, cfg=other)
    with pytest.raises(CheckpointError, match=r"b\.safetensors.*another generator than a\.safetensors.*ngf 8"):
        average_generators([a, b])
    out = tmp_path / "mean.safetensors"
    assert main(["average", str(a), str(b), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "b.safetensors" in err and "Traceback" not in err
    assert not out.exists()
    assert to_dict(other)["ngf"] == 8


@pytest.mark.parametrize("case", ["one checkpoint", "no checkpoints in range", "not a run folder",
                                  "output is an input", "output not safetensors", "corrupt checkpoint",
                                  "files and run"])
def test_bad_requests_are_one_named_error_and_write_nothing(tmp_path: Path, case: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_folder(tmp_path, [1000, 2000])
    a, b = sorted((run / "checkpoints").glob("*.safetensors"))
    out = tmp_path / "mean.safetensors"
    args = {
        "one checkpoint": [str(a)],
        "no checkpoints in range": ["--run", str(run), "--from-step", "5000"],
        "not a run folder": ["--run", str(tmp_path / "nowhere")],
        "output is an input": [str(a), str(b), "--output", str(b)],
        "output not safetensors": [str(a), str(b), "--output", str(tmp_path / "mean.pt")],
        "corrupt checkpoint": [str(a), str(tmp_path / "broken.safetensors")],
        "files and run": [str(a), "--run", str(run)],
    }[case]
    if case == "corrupt checkpoint":
        (tmp_path / "broken.safetensors").write_bytes(b"not a safetensors file")
    before = {p: p.read_bytes() for p in (a, b)}
    if "--output" not in args:
        args += ["--output", str(out)]
    assert main(["average", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "Traceback" not in err, err
    expected = {"one checkpoint": "at least two", "no checkpoints in range": "no step checkpoints between steps 5000",
                "not a run folder": "nowhere", "output is an input": "is one of the checkpoints",
                "output not safetensors": "must be a .safetensors", "corrupt checkpoint": "broken.safetensors",
                "files and run": "not both"}[case]
    assert expected in err
    assert not out.exists() and not (tmp_path / "mean.pt").exists()
    assert {p: p.read_bytes() for p in (a, b)} == before
