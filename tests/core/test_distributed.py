"""`roadstudio-cli train` under real `torchrun` processes (CPU, Gloo, 2 ranks, tiny models):
one set of run files, 2 ranks × batch b = 1 rank × batch 2b, a rank killed under --max-restarts
ends in a completed run resumed from a checkpoint (bit-identical to an uninterrupted one), and a
2-rank checkpoint resumed on 1 process continues at the same place in the data.
(Pure functions of core.train.distributed: tests/core/test_distributed_units.py.)"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from core.weights.checkpoints import load_training_state, load_weights
from core.cli import main
from core.config import GeneratorConfig, Norm, load_run_config
from core.models import build_discriminator, build_generator
from core.train.distributed import CRASH_ENV, LAUNCH_FILE, any_rank, mean_over_ranks
from tests.core.train_helpers import TINY_CLI_MODEL, write_aligned_dataset

pytestmark = pytest.mark.slow  # each test starts torchrun with 2 Python processes (~15-30 s on 2 cores)

REPO_ROOT = Path(__file__).resolve().parents[2]
PAIRS = 8
# 8 pairs, 2 ranks × batch 2: 2 steps an epoch; 4 epochs (lr decays in the last 2) = 8 steps.
# --max-steps 5 stops in the middle of epoch 2. Depth 3 has no dropout; --no-dropout says so.
TINY = [*TINY_CLI_MODEL, "--device", "cpu", "--no-dropout", "--epochs", "2", "--epochs-decay", "2", "--max-steps", "5",
        "--checkpoint-every", "2", "--sample-every", "2", "--val-fraction", "0.2", "--seed", "3"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pix2pix aligned layout: train/N.png, photo left, colour label map right; 10 pairs of which
    --val-fraction 0.2 holds out 2."""
    return write_aligned_dataset(tmp_path_factory.mktemp("data") / "streets", PAIRS + 2, size=40)


def torchrun(*args: str, cwd: Path, nproc: int = 2, extra_env: dict[str, str] | None = None,
             launcher: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TORCHELASTIC_", "ROADSTUDIO_")) and k not in
           ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "GROUP_RANK")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(REPO_ROOT), **(extra_env or {}))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *launcher,
           "-m", "core", "train", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def events(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def tensors(run: Path, part: str) -> dict[str, torch.Tensor]:
    return load_training_state(run / "checkpoints/last.pt")[part]


@pytest.fixture(scope="module")
def two_rank_run(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference distributed run: 2 ranks × batch 2, instance norm, 5 steps."""
    work = tmp_path_factory.mktemp("dist")
    done = torchrun("--data", str(dataset), "--run-dir", "run", "--batch-size", "2", "--norm", "instance", *TINY,
                    cwd=work)
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "run"


def test_two_processes_leave_one_set_of_files_written_by_rank_0(two_rank_run: Path) -> None:
    run = two_rank_run
    cfg = load_run_config(run / "config.toml")
    assert cfg.world_size == 2 and cfg.effective_batch_size == 4
    header = (run / "config.toml").read_text().splitlines()[:3]
    assert "effective batch size per optimizer step: 4" in header[1] and "not scaled" in header[2]

    evs = events(run)
    steps = [e["step"] for e in evs if e["kind"] == "step"]
    assert steps == [1, 2, 3, 4, 5]  # one writer: no step logged twice
    assert [e["kind"] for e in evs].count("started") == 1 and evs[0]["world_size"] == 2
    assert evs[0]["steps_per_epoch"] == 2 and evs[-1]["kind"] == "finished" and evs[-1]["step"] == 5
    # validation ran after each full epoch (2 held-out pairs), logged once
    assert [e["step"] for e in evs if e["kind"] == "validation"] == [2, 4]

    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == ["best.safetensors", "last.pt", "last.safetensors", "step_0000002.pt", "step_0000002.safetensors",
                     "step_0000004.pt", "step_0000004.safetensors", "step_0000005.pt", "step_0000005.safetensors"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000002.png", "step_0000004.png"]
    assert len(list((run / "tensorboard").iterdir())) == 1  # one event file: rank 0's
    assert not list(run.rglob("*.tmp*"))  # no temp files left by atomic writes
    state = load_training_state(run / "checkpoints/last.pt")
    assert (state["step"], state["epoch"], state["consumed"]) == (5, 2, 2)  # consumed: per rank
    assert not any(k.startswith("module.") for k in state["generator"])  # saved unwrapped
    for name in ("last", "best"):  # the shareable weights load into a plain generator
        loaded = load_weights(run / "checkpoints" / f"{name}.safetensors")
        assert loaded.card["step"] in ((5,) if name == "last" else (2, 4))  # best: after a validation
    last = load_weights(run / "checkpoints/last.safetensors").model.state_dict()
    assert all(torch.equal(last[k], v) for k, v in state["generator"].items())


def dead_biases(model: nn.Module) -> set[str]:
    """Biases of convolutions that feed an InstanceNorm directly. The norm subtracts each
    channel's mean, so in exact arithmetic their gradient is zero; in float it is rounding noise,
    which Adam (normalising by the gradient's own size) turns into steps of up to ±lr whose sign
    depends on summation order. They carry no information and are compared with that allowance."""
    dead = set()
    for name, module in model.named_modules():
        children = list(module.named_children())
        for (a, first), (_, second) in zip(children, children[1:], strict=False):
            if isinstance(second, nn.InstanceNorm2d) and getattr(first, "bias", None) is not None:
                dead.add(f"{name}.{a}.bias" if name else f"{a}.bias")
    return dead


def assert_same_weights(run_a: Path, run_b: Path, norm: Norm, steps: int = 5) -> None:
    g_cfg = GeneratorConfig(depth=3, ngf=4, norm=norm, dropout=False)
    cfg = load_run_config(run_a / "config.toml")
    allowance = {"generator": dead_biases(build_generator(g_cfg)),
                 "discriminator": dead_biases(build_discriminator(cfg.discriminator, g_cfg))}
    if norm == "instance":
        assert allowance["generator"] and allowance["discriminator"]
    for part in ("generator", "discriminator"):
        a, b = tensors(run_a, part), tensors(run_b, part)
        assert a.keys() == b.keys()
        for key in a:
            diff = (a[key].double() - b[key].double()).abs().max().item()
            limit = 2 * steps * cfg.train.lr if key in allowance[part] else 1e-5
            assert diff <= limit, f"{part} {key}: {diff:.3g} > {limit:.3g}"


def test_two_ranks_batch_b_equal_one_rank_batch_2b_instance_norm(two_rank_run: Path, dataset: Path,
                                                                  tmp_path: Path) -> None:
    single = tmp_path / "single"
    assert main(["train", "--data", str(dataset), "--run-dir", str(single), "--batch-size", "4", "--norm",
                 "instance", *TINY]) == 0
    assert load_run_config(single / "config.toml").effective_batch_size == 4
    assert_same_weights(two_rank_run, single, "instance")
    # the logged losses are the global batch's: the same numbers as the single process logs
    a = [e["losses"] for e in events(two_rank_run) if e["kind"] == "step"]
    b = [e["losses"] for e in events(single) if e["kind"] == "step"]
    for la, lb in zip(a, b, strict=True):
        assert la == pytest.approx(lb, rel=1e-5)


def test_two_ranks_batch_b_equal_one_rank_batch_2b_every_parameter(dataset: Path, tmp_path: Path) -> None:
    # Without norm layers no parameter is exempt: everything within 1e-5.
    done = torchrun("--data", str(dataset), "--run-dir", "two", "--batch-size", "2", "--norm", "none", *TINY,
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert main(["train", "--data", str(dataset), "--run-dir", str(tmp_path / "one"), "--batch-size", "4",
                 "--norm", "none", *TINY]) == 0
    assert_same_weights(tmp_path / "two", tmp_path / "one", "none")


def test_rank_killed_under_max_restarts_resumes_from_checkpoint_and_completes(two_rank_run: Path, dataset: Path,
                                                                              tmp_path: Path) -> None:
    # Rank 1 dies (os._exit(1)) before step 4 on the first attempt; torchrun restarts both ranks,
    # and the restarted command line - unchanged - continues the run from its step-2 checkpoint.
    done = torchrun("--data", str(dataset), "--run-dir", "run", "--batch-size", "2", "--norm", "instance", *TINY,
                    cwd=tmp_path, launcher=("--max-restarts=1",), extra_env={CRASH_ENV: "4"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{CRASH_ENV}: rank 1 exits before step 4" in done.stderr
    run = tmp_path / "run"
    evs = events(run)
    started = [e for e in evs if e["kind"] == "started"]
    assert [e["start_step"] for e in started] == [0, 2]
    assert evs[-1]["kind"] == "finished" and evs[-1]["step"] == 5 and evs[-1]["reason"] == "max_steps"
    assert (run / LAUNCH_FILE).exists()
    # after the restart: steps 3, 4, 5 (step 3 had been logged before the crash as well)
    restart_at = evs.index(started[1])
    assert [e["step"] for e in evs[restart_at:] if e["kind"] == "step"] == [3, 4, 5]
    # ... and the result is exactly the uninterrupted 2-rank run's
    for part in ("generator", "discriminator"):
        a, b = tensors(run, part), tensors(two_rank_run, part)
        assert all(torch.equal(a[k], b[k]) for k in a), part


def test_two_rank_checkpoint_resumes_on_one_process_at_the_same_place_in_the_data(two_rank_run: Path,
                                                                                   tmp_path: Path) -> None:
    # Stopped at step 5: epoch 2, each of 2 ranks had used 2 of its 4 samples, i.e. 4 of the 8
    # pairs of the epoch's order. One process with batch 2 continues with the other 4 (2 steps),
    # then trains the last epoch (4 steps): 11 steps in all.
    run = tmp_path / "run"
    shutil.copytree(two_rank_run, run)
    assert main(["train", "--resume", str(run), "--max-steps", "0"]) == 0
    evs = events(run)
    resumed = [e for e in evs if e["kind"] == "started"][-1]
    assert (resumed["start_step"], resumed["start_epoch"], resumed["total_steps"],
            resumed["world_size"]) == (5, 2, 11, 1)
    tail = [(e["step"], e["epoch"]) for e in evs[evs.index(resumed):] if e["kind"] == "step"]
    assert tail == [(6, 2), (7, 2), (8, 3), (9, 3), (10, 3), (11, 3)]
    assert evs[-1]["kind"] == "finished" and evs[-1]["reason"] == "completed"
    assert load_run_config(run / "config.toml").world_size == 1


def _worker_pid(launcher_pid: int, rank: int) -> int | None:
    """The pid of torchrun's worker with RANK=rank (Linux /proc: children by parent pid)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid != launcher_pid:
                continue
            environ = (stat.parent / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile
        if f"RANK={rank}".encode() in environ:
            return int(stat.parent.name)
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds torchrun's workers through /proc")
def test_sigterm_to_one_rank_stops_every_rank_at_the_same_step_with_a_checkpoint(dataset: Path,
                                                                                 tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHELASTIC_", "ROADSTUDIO_"))}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(REPO_ROOT))
    # A run that cannot end by itself (100,000 epochs of 2 steps): the stop below always lands inside it,
    # however fast the machine. No interval checkpoints: the one saved is the stop's.
    overrides = {"--epochs": "100000", "--epochs-decay": "0", "--max-steps": "0", "--checkpoint-every": "100000"}
    args = [overrides.get(TINY[i - 1], a) if i else a for i, a in enumerate(TINY)]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "core", "train",
           "--data", str(dataset), "--run-dir", "run", "--batch-size", "2", "--norm", "instance", *args]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    metrics = tmp_path / "run" / "metrics.jsonl"
    try:
        # Wait on the run's own events: three logged steps mean both ranks are inside the loop with
        # their signal handlers installed. The deadline only turns a hung start into a failure.
        deadline = time.monotonic() + 300
        while not (metrics.exists() and metrics.read_text().count('"kind": "step"') >= 3):
            assert proc.poll() is None, f"torchrun ended before three steps: {proc.communicate()[1][-3000:]}"
            assert time.monotonic() < deadline, "no three training steps within 300 s"
            time.sleep(0.2)
        rank1 = _worker_pid(proc.pid, 1)
        assert rank1 is not None
        os.kill(rank1, signal.SIGTERM)  # only rank 1 is asked to stop
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    evs = events(tmp_path / "run")
    last = evs[-1]
    assert last["kind"] == "finished" and last["reason"] == "stopped"
    saved = [e for e in evs if e["kind"] == "checkpoint"][-1]
    assert saved["reason"] == "stop" and saved["step"] == last["step"]
    # rank 0 stopped at the very step rank 1 did: the checkpoint it wrote is the state after it
    assert load_training_state(tmp_path / "run/checkpoints/last.pt")["step"] == last["step"]


def _agreement_worker(rank: int, init_file: str, results: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        cpu = torch.device("cpu")
        mean = mean_over_ranks(torch.tensor([1.0 + rank, 10.0 * rank]))
        nan = mean_over_ranks(torch.tensor([float("nan") if rank == 1 else 0.5]))
        out = {"mean": mean.tolist(), "nan": math.isnan(nan.item()),
               "any_one": any_rank(rank == 1, cpu), "any_none": any_rank(False, cpu)}
        Path(results, f"{rank}.json").write_text(json.dumps(out))
    finally:
        torch.distributed.destroy_process_group()


def test_ranks_agree_on_mean_losses_nan_and_stop(tmp_path: Path) -> None:
    torch.multiprocessing.spawn(_agreement_worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    for rank in (0, 1):
        out = json.loads((tmp_path / f"{rank}.json").read_text())
        # the mean over ranks; one rank's NaN reaches both; one rank's stop flag reaches both
        assert out == {"mean": [1.5, 5.0], "nan": True, "any_one": True, "any_none": False}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="stops a process group with POSIX signals")
@pytest.mark.parametrize("fault", ["frozen", "killed"])
def test_a_vanished_machine_ends_the_other_ranks_run_naming_the_lost_rank(dataset: Path, tmp_path: Path,
                                                                         fault: str) -> None:
    """Two torchrun "machines" (launchers, one rank each) on one host. The second one vanishes
    mid-run: frozen (SIGSTOP of its launcher and worker: like a machine that dropped off the
    network, its sockets stay open, so no collective notices) or killed (SIGKILL). Rank 0 must not
    wait for the 30-minute collective timeout: one line naming rank 1, a non-zero exit."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TORCHELASTIC_", "ROADSTUDIO_")) and k not in
           ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "GROUP_RANK")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(REPO_ROOT), ROADSTUDIO_PEER_TIMEOUT_S="10")
    overrides = {"--epochs": "100000", "--epochs-decay": "0", "--max-steps": "0", "--checkpoint-every": "100000"}
    args = [overrides.get(TINY[i - 1], a) if i else a for i, a in enumerate(TINY)]
    port = _free_port()

    def launcher(node: int) -> subprocess.Popen[str]:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", f"--node-rank={node}",
               "--nproc-per-node=1", "--master-addr=127.0.0.1", f"--master-port={port}", "-m", "core", "train",
               "--data", str(dataset), "--run-dir", "run", "--batch-size", "2", "--norm", "instance", *args]
        # Each "machine" in a session of its own: the fault hits its launcher and worker together.
        return subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)

    first, second = launcher(0), launcher(1)
    workers: list[int] = []
    metrics = tmp_path / "run" / "metrics.jsonl"
    try:
        deadline = time.monotonic() + 300  # only turns a hung start into a failure
        while not (metrics.exists() and metrics.read_text().count('"kind": "step"') >= 3):
            for proc in (first, second):
                assert proc.poll() is None, f"a launcher ended before three steps: {proc.communicate()[1][-3000:]}"
            assert time.monotonic() < deadline, "no three training steps within 300 s"
            time.sleep(0.2)
        workers = [pid for pid in (_worker_pid(first.pid, 0), _worker_pid(second.pid, 1)) if pid is not None]
        assert len(workers) == 2
        # The machine's launcher and its worker (torchrun starts workers in sessions of their own).
        for pid in (second.pid, workers[1]):
            os.kill(pid, signal.SIGSTOP if fault == "frozen" else signal.SIGKILL)
        # Without the heartbeats rank 0 would sit in its collective for 30 minutes (frozen peer).
        _, err = first.communicate(timeout=240)
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            if proc.stderr is not None and not proc.stderr.closed:
                proc.stderr.close()
        for pid in workers:  # a frozen worker outlives its killed launcher
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert first.returncode != 0
    lines = [line for line in err.splitlines() if line.startswith("error:")]  # ours; torchrun's own report follows
    assert len(lines) == 1, err[-3000:]
    assert "rank 0 lost rank 1: no sign of life for 10 s" in lines[0], err[-3000:]
    assert "Traceback" not in lines[0]
