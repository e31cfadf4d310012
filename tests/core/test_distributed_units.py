"""core.train.distributed without processes: the resume position across world sizes, when a run
folder is resumed automatically, the run config header, the cluster command lines, the test
crash hook's guard, SyncBatchNorm and backend choice. (Real torchrun runs: test_distributed.py.)"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.config import RunConfig, TrainConfig, load_run_config, save_run_config
from core.data.loader import ResumableSampler
from core.errors import ConfigError, UserError
from core.train.dist_env import DistEnv
from core.train.distributed import (CRASH_ENV, LAUNCH_FILE, backend_for, cluster_commands, crash_for_test,
                                    local_module, mean_over_ranks, planned_total_steps, record_launch,
                                    rescale_consumed, run_config_text, start_mode, sync_bn_usable)


# ------------------------------------------------------------------------------ resume position


def _seen(length: int, world: int, per_rank_start: int, epoch: int = 0, seed: int = 5) -> list[int]:
    """Samples the ranks of `world` still take in an epoch when each skips `per_rank_start`."""
    out: list[int] = []
    for rank in range(world):
        sampler = ResumableSampler(length, seed, rank=rank, world_size=world)
        sampler.set_epoch(epoch, start=per_rank_start)
        out += [i for _, i in sampler]
    return out


@pytest.mark.parametrize("length", [8, 11, 12])
@pytest.mark.parametrize(("old", "new"), [(2, 1), (1, 2), (2, 4), (4, 2), (2, 3), (3, 2)])
def test_rescaled_position_skips_nothing_and_repeats_less_than_a_world(length: int, old: int, new: int) -> None:
    order = ResumableSampler(length, 5).order(0)  # the epoch's full order (1 rank)
    per_rank_old = -(-length // old)
    for consumed in range(per_rank_old + 1):
        done = set(order[: min(consumed * old, length)])  # what the old ranks had trained on
        start = rescale_consumed(consumed, old, new, length)
        rest = _seen(length, new, start)
        assert set(order) - done <= set(rest), "a sample of the epoch would be skipped"
        repeated = [i for i in rest if i in done]
        assert len(repeated) < new + (new - length % new) % new  # rounding + the new order's padding


def test_same_world_size_keeps_the_position_and_a_finished_epoch_stays_finished() -> None:
    assert rescale_consumed(3, 2, 2, 8) == 3
    assert rescale_consumed(4, 2, 4, 8) == 2  # 8 of 8 done -> the new per-rank share, all done
    assert rescale_consumed(3, 2, 4, 5) == 2  # padded epoch (5 pairs on 2 ranks) is still finished


def test_planned_steps_equal_the_plain_count_for_an_unchanged_world() -> None:
    per_rank, batch, epochs = 5, 2, 4  # 3 steps an epoch, the last with one sample
    steps_per_epoch = 3
    for step in range(steps_per_epoch * epochs + 1):
        epoch, within = divmod(step, steps_per_epoch)
        consumed = min(per_rank, within * batch)
        if within == 0 and step > 0:  # at an epoch end the loop still holds the old epoch
            epoch, consumed = epoch - 1, per_rank
        assert planned_total_steps(step, epoch, consumed, per_rank, batch, epochs) == steps_per_epoch * epochs


# --------------------------------------------------------------------------- start / restarts


def _run_folder(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    save_run_config(RunConfig(), run / "config.toml")
    return run


def test_start_mode_new_resume_if_exists_and_someone_elses_run(tmp_path: Path) -> None:
    assert start_mode(tmp_path / "fresh", resume_if_exists=False, environ={}) == "new"
    run = _run_folder(tmp_path)
    with pytest.raises(UserError, match="already holds a run"):
        start_mode(run, resume_if_exists=False, environ={})
    assert start_mode(run, resume_if_exists=True, environ={}) == "resume"


def test_a_torchrun_restart_resumes_only_the_run_its_own_job_started(tmp_path: Path) -> None:
    run = _run_folder(tmp_path)
    first = {"TORCHELASTIC_RESTART_COUNT": "0", "TORCHELASTIC_RUN_ID": "job-a", "RANK": "0", "WORLD_SIZE": "2"}
    record_launch(run, first)
    assert (run / LAUNCH_FILE).read_text().strip() == "job-a"
    assert start_mode(run, resume_if_exists=False, environ={**first, "TORCHELASTIC_RESTART_COUNT": "1"}) == "resume"
    with pytest.raises(UserError):  # the same job's first attempt: the folder was there before it
        start_mode(run, resume_if_exists=False, environ=first)
    with pytest.raises(UserError):  # another job's restart
        start_mode(run, resume_if_exists=False,
                   environ={**first, "TORCHELASTIC_RUN_ID": "job-b", "TORCHELASTIC_RESTART_COUNT": "1"})
    other = tmp_path / "other"
    other.mkdir()
    record_launch(other, {**first, "RANK": "1"})  # only rank 0 writes
    record_launch(other, {})  # outside torchrun nothing is written
    assert not (other / LAUNCH_FILE).exists()


def test_crash_hook_fires_only_on_the_highest_rank_on_the_first_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    class ExitedError(Exception):
        pass

    def fake_exit(code: int) -> None:
        raise ExitedError(code)

    monkeypatch.setattr(os, "_exit", fake_exit)  # the hook's real os._exit would end pytest
    with pytest.raises(ExitedError):
        crash_for_test(3, DistEnv(1, 2, 1), {CRASH_ENV: "3", "TORCHELASTIC_RESTART_COUNT": "0"})
    crash_for_test(3, DistEnv(0, 2, 0), {CRASH_ENV: "3", "TORCHELASTIC_RESTART_COUNT": "0"})  # rank 0 lives
    crash_for_test(3, DistEnv(1, 2, 1), {CRASH_ENV: "3", "TORCHELASTIC_RESTART_COUNT": "1"})  # restarted: lives
    crash_for_test(2, DistEnv(1, 2, 1), {CRASH_ENV: "3"})  # another step: nothing happens
    crash_for_test(3, DistEnv(1, 2, 1), {})  # hook not set


# --------------------------------------------------------------------------------- config file


def test_run_config_records_effective_batch_and_unscaled_lr_and_stays_loadable(tmp_path: Path) -> None:
    cfg = RunConfig(train=TrainConfig(batch_size=3, lr=1e-3), world_size=4)
    path = tmp_path / "config.toml"
    path.write_text(run_config_text(cfg))
    text = path.read_text()
    assert "effective batch size per optimizer step: 12 (train.batch_size 3 x world_size 4" in text
    assert "learning rate: 0.001 (train.lr, used as written: not scaled" in text
    assert load_run_config(path) == cfg


# ---------------------------------------------------------------------------- single process


def test_single_process_helpers_are_identities() -> None:
    values = torch.tensor([1.0, float("nan")])
    assert mean_over_ranks(values) is values
    module = torch.nn.Linear(2, 2)
    assert local_module(module) is module
    assert backend_for(torch.device("cpu")) == "gloo" and backend_for(torch.device("cuda", 1)) == "nccl"


def test_sync_bn_applies_only_with_several_cuda_processes() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda", 0)
    assert sync_bn_usable(True, DistEnv(0, 1, 0), cuda) == (False, [])
    assert sync_bn_usable(False, DistEnv(0, 2, 0), cuda) == (False, [])
    assert sync_bn_usable(True, DistEnv(0, 2, 0), cuda) == (True, [])
    used, warnings = sync_bn_usable(True, DistEnv(0, 2, 0), cpu)
    assert not used and "only supported on CUDA" in warnings[0]


# ---------------------------------------------------------------------------- cluster commands


def test_cluster_commands_for_a_new_run_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "my run.toml"
    save_run_config(RunConfig(name="streets"), config)
    cmds = cluster_commands(config, nproc_per_node=4, run_dir=tmp_path / "runs" / "streets")
    argv = shlex.split(cmds.torchrun)
    assert argv[:4] == ["torchrun", "--standalone", "--nproc-per-node=4", "--max-restarts=3"]
    assert argv[4:] == ["-m", "core", "train", "--config", str(config.absolute()), "--run-dir",
                        str((tmp_path / "runs" / "streets").absolute()), "--resume-if-exists"]
    # every argument it passes is one `roadstudio-cli train` accepts
    from core.cli import build_parser
    args = build_parser().parse_args(argv[6:])
    assert args.resume_if_exists and args.config == config.absolute()
    assert "#SBATCH --gpus-per-node=4" in cmds.slurm_script and "#SBATCH --nodes=1" in cmds.slurm_script


def test_cluster_commands_multi_node_and_for_an_existing_run(tmp_path: Path) -> None:
    run = _run_folder(tmp_path)
    cmds = cluster_commands(run, nproc_per_node=8, nnodes=2, rdzv_endpoint="node01:29400", max_restarts=1)
    argv = shlex.split(cmds.torchrun)
    assert "--nnodes=2" in argv and "--rdzv-backend=c10d" in argv and "--rdzv-endpoint=node01:29400" in argv
    assert "--max-restarts=1" in argv and "--standalone" not in argv
    assert argv[-2:] == ["--resume", str(run.absolute())]
    script = cmds.slurm_script
    assert script.startswith("#!/bin/bash") and "#SBATCH --nodes=2" in script and "srun torchrun" in script
    assert '--rdzv-endpoint="$head_node:29500"' in script and "--rdzv-id=\"$SLURM_JOB_ID\"" in script
    assert f"--resume {shlex.quote(str(run.absolute()))}" in script
    # the script is valid bash
    done = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_cluster_commands_from_a_run_config_object_need_its_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config_path"):
        cluster_commands(RunConfig())
    cmds = cluster_commands(RunConfig(name="a"), 2, config_path=tmp_path / "a.toml")
    assert "--run-dir" in cmds.torchrun and str(Path("runs/a").absolute()) in cmds.torchrun
    with pytest.raises(UserError, match="no such run folder"):
        cluster_commands(tmp_path / "missing.toml")
    with pytest.raises(ConfigError):
        cluster_commands(RunConfig(), 0, config_path=tmp_path / "a.toml")


def test_cluster_script_cli_prints_and_writes_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_folder(tmp_path)
    out = tmp_path / "cluster"
    assert main(["cluster-script", str(run), "--nproc-per-node", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "torchrun --standalone --nproc-per-node=2" in printed and "#SBATCH" in printed
    assert (out / "train.sbatch").read_text().startswith("#!/bin/bash")
    assert "torchrun" in (out / "torchrun.sh").read_text()
    assert main(["cluster-script", str(tmp_path / "nothing")]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_train_cli_resume_if_exists_continues_the_run_and_without_it_refuses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    tiny = ["--data", "synthetic", "--synthetic-count", "4", "--val-fraction", "0", "--depth", "3", "--ngf", "4",
            "--ndf", "4", "--d-layers", "1", "--crop-size", "32", "--load-size", "32", "--batch-size", "2",
            "--device", "cpu", "--checkpoint-every", "2", "--run-dir", str(run)]
    assert main(["train", *tiny, "--resume-if-exists", "--max-steps", "2"]) == 0  # no run yet: a new one
    assert main(["train", *tiny, "--max-steps", "4"]) == 2  # the same command again: refused
    assert "already holds a run" in capsys.readouterr().err
    assert main(["train", *tiny, "--resume-if-exists", "--max-steps", "4"]) == 0
    assert "resuming at step 2 of 4" in capsys.readouterr().err
    assert main(["train", *tiny, "--resume-if-exists", "--ngf", "8"]) == 2  # not this run's settings
    assert "generator.ngf" in capsys.readouterr().err
    assert not (run / LAUNCH_FILE).exists()  # not started by torchrun


# ------------------------------------------------------------------------------ lost peers


class _DictStore:
    """The two store calls PeerWatch makes (add), on a dict: TCPStore semantics for add."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.lock = threading.Lock()

    def add(self, key: str, amount: int) -> int:
        with self.lock:
            self.values[key] = self.values.get(key, 0) + amount
            return self.values[key]


def test_a_silent_peer_is_named_and_one_that_ended_normally_is_not() -> None:
    from core.train.peer_watch import PeerWatch

    store = _DictStore()
    reported: list[str] = []
    verdict = threading.Event()

    def on_lost(message: str) -> None:
        reported.append(message)
        verdict.set()

    watch = PeerWatch(store, rank=0, world_size=3, timeout_s=0.5, on_lost=on_lost)
    store.add("done/2", 1)  # rank 2 finished its run normally: never "lost"
    watch.start()
    try:
        # Rank 1 never beats: it is named once the watcher has watched it stay silent.
        assert verdict.wait(60), "no verdict on a silent peer"
    finally:
        watch.stop()
    assert watch.lost == [1]
    assert reported == ["rank 0 lost rank 1: no sign of life for 0.5 s (the process died or hung, or its machine "
                        "is unreachable); every rank stops. The last checkpoint is intact: restart the job to resume"]
    assert store.values["done/0"] == 1  # and this rank tells the others it ended normally


def test_a_beating_peer_is_never_lost() -> None:
    from core.train.peer_watch import PeerWatch

    class AlwaysBeating(_DictStore):
        def add(self, key: str, amount: int) -> int:
            # Rank 1 beats between any two looks of the watcher, however the threads are scheduled.
            return super().add(key, 1 if key == "beat/1" else amount)

    store = AlwaysBeating()
    lost: list[str] = []
    watch = PeerWatch(store, rank=0, world_size=2, timeout_s=0.5, on_lost=lost.append)
    watch.start()
    try:
        while store.values.get("beat/0", 0) < 10:  # the watcher has looked at least 9 times
            threading.Event().wait(0.05)
    finally:
        watch.stop()
    assert lost == [] and watch.lost == []
