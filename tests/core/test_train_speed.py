"""Training speed options (issue 18 §4): fused Adam in the loop, the OpenMP wait policy of the CLI.
No timing is asserted here; benchmarks/train_step_bench.py measures the speed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import torch

from core.weights.checkpoints import load_training_state
from core.threads import configure_openmp, free_core_threads, physical_cores, spinning_allowed
from core.train import loop
from core.train.events import Finished, Started, Step
from tests.core.test_checkpoint_state import assert_identical
from tests.core.train_helpers import one_torch_thread, tiny_config, tiny_sources

REPO = Path(__file__).resolve().parents[2]
NET: dict[str, Any] = {"size": 64, "depth": 6, "ngf": 4, "ndf": 4}  # depth 6: dropout draws from the RNG every step


def _fused_flags(run: Path) -> list[object]:
    state = load_training_state(run / "checkpoints/last.pt")
    return [group.get("fused") for key in ("optimizer_G", "optimizer_D") for group in state[key]["param_groups"]]


@pytest.mark.usefixtures(one_torch_thread.__name__)
def test_new_runs_train_with_fused_adam_and_resume_bit_identical(tmp_path: Path) -> None:
    cfg = tiny_config(epochs=2, epochs_decay=1, checkpoint_every=3, **NET)
    src = {"count": 5, "val": 0, "size": 64}
    straight = tmp_path / "straight"
    assert isinstance(list(loop.train(cfg, straight, sources=tiny_sources(**src)))[-1], Finished)
    assert _fused_flags(straight) == [True, True]

    run = tmp_path / "interrupted"
    stream = loop.train(cfg, run, sources=tiny_sources(**src))
    assert isinstance(stream, Generator)  # closed below like a killed run
    for event in stream:
        if isinstance(event, Step) and event.step == 5:
            break
    stream.close()
    events = list(loop.train(None, run, sources=tiny_sources(**src), resume=True))
    assert isinstance(events[0], Started) and events[0].start_step == 3
    assert_identical(load_training_state(straight / "checkpoints/last.pt"),
                     load_training_state(run / "checkpoints/last.pt"))


@pytest.mark.usefixtures(one_torch_thread.__name__)
def test_a_run_saved_with_plain_adam_resumes_with_plain_adam_bit_identical(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints written before fused Adam continue exactly as they would have: the optimiser
    takes its kind from the checkpoint, not from the new default."""
    cfg = tiny_config(epochs=2, epochs_decay=1, checkpoint_every=3, **NET)
    src = {"count": 5, "val": 0, "size": 64}

    def plain_adam(g, d, t, device):
        return (torch.optim.Adam(g.parameters(), lr=t.lr, betas=(t.beta1, t.beta2)),
                torch.optim.Adam(d.parameters(), lr=t.lr, betas=(t.beta1, t.beta2)))

    with monkeypatch.context() as patch:
        patch.setattr(loop, "make_optimizers", plain_adam)
        straight = tmp_path / "straight"
        list(loop.train(cfg, straight, sources=tiny_sources(**src)))
        run = tmp_path / "old"
        stream = loop.train(cfg, run, sources=tiny_sources(**src))
        assert isinstance(stream, Generator)  # closed below like a killed run
        for event in stream:
            if isinstance(event, Step) and event.step == 4:
                break
        stream.close()
    assert _fused_flags(run) == [None, None]
    list(loop.train(None, run, sources=tiny_sources(**src), resume=True))  # today's code
    assert _fused_flags(run) == [None, None]
    assert_identical(load_training_state(straight / "checkpoints/last.pt"),
                     load_training_state(run / "checkpoints/last.pt"))


def test_fused_adam_takes_the_same_steps_as_plain_adam_within_rounding() -> None:
    torch.manual_seed(0)
    # (No bias before a BatchNorm here: its gradient is pure rounding noise, which Adam's
    # normalisation turns into full-size, rounding-dependent steps.)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(8, 1, 3))
    twin = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(8, 1, 3))
    twin.load_state_dict(net.state_dict())
    t = tiny_config().train
    fused, _ = loop.make_optimizers(net, torch.nn.Linear(1, 1), t, torch.device("cpu"))
    plain = torch.optim.Adam(twin.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))
    assert fused.param_groups[0]["fused"] is True and not plain.param_groups[0].get("fused")
    x = torch.randn(2, 3, 12, 12)
    for _ in range(5):
        for model, opt in ((net, fused), (twin, plain)):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    for a, b in zip(net.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_default_model_preset_trains_channels_last_on_the_cpu_at_every_batch_size() -> None:
    from core.train.presets import preset_config
    from core.train.device import cuda_only_options

    train_cfg = preset_config("default-model").train
    assert train_cfg.batch_size == 1
    bf16, channels_last, compile_models, warnings = cuda_only_options(train_cfg, torch.device("cpu"))
    assert (bf16, channels_last, compile_models, warnings) == (False, True, False, [])
    # The paper's recipe keeps NCHW at batch 1 (no gain measured at unet_256 size).
    assert cuda_only_options(preset_config("paper").train, torch.device("cpu"))[1] is False


# ------------------------------------------------------------------------------ OpenMP policy

def test_configure_openmp_waits_passively_on_the_free_cores_but_never_overrides_the_user() -> None:
    env: dict[str, str] = {}
    assert configure_openmp(env, load=lambda: 0.3, cores=lambda: 2) == {"OMP_WAIT_POLICY": "PASSIVE",
                                                                         "OMP_NUM_THREADS": "2"}
    assert env == {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "2"} and not spinning_allowed(env)
    busy: dict[str, str] = {}
    configure_openmp(busy, load=lambda: 1.1, cores=lambda: 2)  # one core held by another process
    assert busy["OMP_NUM_THREADS"] == "1"
    swamped: dict[str, str] = {}
    configure_openmp(swamped, load=lambda: 9.0, cores=lambda: 8)
    assert swamped["OMP_NUM_THREADS"] == "1"  # never 0 or negative
    mine = {"OMP_WAIT_POLICY": "active", "OMP_NUM_THREADS": "3"}
    assert configure_openmp(mine, load=lambda: 5.0, cores=lambda: 2) == {}
    assert mine == {"OMP_WAIT_POLICY": "active", "OMP_NUM_THREADS": "3"} and spinning_allowed(mine)
    only_threads = {"OMP_NUM_THREADS": "2"}
    assert configure_openmp(only_threads, load=lambda: 1.0, cores=lambda: 2) == {"OMP_WAIT_POLICY": "PASSIVE"}


def test_free_core_threads_counts_this_machines_cores() -> None:
    cores = physical_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    assert free_core_threads(cores, 0.0) == cores
    assert free_core_threads(cores, float(cores + 3)) == 1


@pytest.mark.parametrize("given, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_the_cli_sets_the_wait_policy_before_torch_is_imported(given: str | None, expected: str) -> None:
    """Both entry points (`roadstudio-cli` = core.cli:main, `python -m core`) import core.cli,
    which must have chosen the policy before anything loads torch (libgomp reads it once)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    env["PYTHONPATH"] = str(REPO)
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    probe = ("import sys, os; import core.cli; before = 'torch' in sys.modules; "
             "core.cli.build_parser(); import torch; "
             "print(before, os.environ.get('OMP_WAIT_POLICY'), os.environ['OMP_NUM_THREADS'], torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300,
                         check=True).stdout.split()
    assert out[:2] == ["False", expected]
    assert out[2] == out[3]  # torch took the chosen thread count
