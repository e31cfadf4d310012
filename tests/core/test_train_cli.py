"""`roadstudio-cli train` on a real (tiny) aligned JPEG dataset: flags, config files, run-folder
rules, exit codes, SIGTERM, and kill -9 + `--resume` ending bit-identical."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.weights.checkpoints import load_training_state, load_weights
from core.cli import build_parser, main
from core.cli.train_cmd import build_config
from core.config import load_run_config
from core.train.loop import INJECT_NAN_ENV
from tests.core.test_checkpoint_state import assert_identical

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY = ["--netG", "unet_128", "--depth", "4", "--ngf", "4", "--ndf", "4", "--d-layers", "2", "--crop-size", "32",
        "--load-size", "36", "--batch-size", "2", "--device", "cpu", "--val-fraction", "0.25"]


def cli(*args: str) -> int:
    return main(["train", *args])


def test_new_run_trains_and_writes_the_run_folder(aligned_dataset: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert cli("--data", str(aligned_dataset), "--run-dir", str(run), "--max-steps", "3", "--seed", "7",
               "--checkpoint-every", "2", *TINY) == 0
    err = capsys.readouterr().err
    assert "finished (max_steps) at step 3" in err and "train" in err and "6 training pairs" in err
    cfg = load_run_config(run / "config.toml")
    assert (cfg.generator.depth, cfg.generator.ngf, cfg.discriminator.n_layers, cfg.data.crop_size,
            cfg.train.seed, cfg.train.max_steps) == (4, 4, 2, (32, 32), 7, 3)
    assert load_weights(run / "checkpoints/last.safetensors").card["step"] == 3
    kinds = [json.loads(line)["kind"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert kinds[0] == "started" and kinds[-1] == "finished" and kinds.count("step") == 3


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text("[generator]\nngf = 16\n[train]\nlr = 0.001\nbatch_size = 4\n[data]\npath = \"synthetic\"\n")
    args = build_parser().parse_args(["train", "--config", str(toml), "--ngf", "8", "--crop-size", "128",
                                      "--netG", "unet_128", "--norm", "instance", "--no-dropout", "--bf16"])
    cfg = build_config(args)
    assert cfg.generator.ngf == 8 and cfg.train.lr == 0.001 and cfg.train.batch_size == 4
    assert cfg.generator.depth == 7 and not cfg.generator.dropout and cfg.train.bf16
    assert cfg.generator.norm == cfg.discriminator.norm == "instance"
    assert cfg.data.crop_size == (128, 128) and cfg.data.load_size == (143, 143)  # 286/256 of the crop
    args = build_parser().parse_args(["train", "--netG", "unet_128", "--crop-size", "128x256",
                                      "--load-size", "140x280"])
    assert build_config(args).data.load_size == (140, 280)


def test_user_errors_exit_2_with_one_line(aligned_dataset: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--data", str(aligned_dataset), *TINY) == 2
    assert "--run-dir" in capsys.readouterr().err
    run = tmp_path / "run"
    assert cli("--data", str(aligned_dataset), "--run-dir", str(run), "--max-steps", "1", *TINY) == 0
    capsys.readouterr()
    assert cli("--data", str(aligned_dataset), "--run-dir", str(run), *TINY) == 2
    assert "--resume" in capsys.readouterr().err
    assert cli("--resume", str(run), "--lr", "0.1") == 2
    assert "--lr" in capsys.readouterr().err
    assert cli("--resume", str(tmp_path / "nope")) == 2
    assert cli("--data", str(tmp_path / "missing"), "--run-dir", str(tmp_path / "r2"), *TINY) == 2
    assert cli("--data", "synthetic", "--run-dir", str(tmp_path / "r3"), "--crop-size", "100",
               "--netG", "unet_128") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "multiple of 128" in err


def test_a_nan_loss_exits_1_naming_the_step(aligned_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(INJECT_NAN_ENV, "3")
    run = tmp_path / "run"
    assert cli("--data", str(aligned_dataset), "--run-dir", str(run), "--checkpoint-every", "2", *TINY) == 1
    err = capsys.readouterr().err
    assert "failed at step 3" in err and "last.safetensors" in err
    assert load_training_state(run / "checkpoints/last.pt")["step"] == 2


# Runs `python -m core train ...`, but SIGKILLs itself once the loop has handed over the Step event
# of step N (metrics.jsonl already holds it): a kill -9 between steps at a known step, however fast
# or slow the machine is, instead of a race between the test's polling and the run's end.
_KILL_AFTER_STEP = """
import os, signal, sys
import core.train.loop as loop
from core.cli import main
from core.train.events import Step
n = int(os.environ["ROADSTUDIO_TEST_KILL_AFTER_STEP"])
train = loop.train
def killed_after_step(*args, **kwargs):
    for event in train(*args, **kwargs):
        yield event
        if isinstance(event, Step) and event.step == n:
            os.kill(os.getpid(), signal.SIGKILL)
loop.train = killed_after_step
sys.exit(main(sys.argv[1:]))
"""


def _cli_process(log: Path, *args: str, kill_after_step: int | None = None) -> subprocess.Popen:
    """`python -m core train ...` with stderr (the progress bar) to a file: a pipe nobody reads
    while we poll could fill up and block the child."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop(INJECT_NAN_ENV, None)
    launch = ["-m", "core"]
    if kill_after_step is not None:
        env["ROADSTUDIO_TEST_KILL_AFTER_STEP"] = str(kill_after_step)
        launch = ["-c", _KILL_AFTER_STEP]
    with open(log, "w") as fh:
        return subprocess.Popen([sys.executable, *launch, "train", *args], cwd=REPO_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=fh)


def _wait_for_line(path: Path, predicate, proc: subprocess.Popen, timeout: float = 300) -> dict:
    """Wait on the run's own events; the deadline only turns a hung run into a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line being written
                if predicate(record):
                    return record
        assert proc.poll() is None, "training ended before the expected event"
        time.sleep(0.01)
    raise AssertionError("timed out waiting for an event")


@pytest.mark.slow
def test_sigterm_stops_with_a_checkpoint(aligned_dataset: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    # 100,000 epochs: the run cannot end by itself before the SIGTERM lands, however fast the machine.
    proc = _cli_process(log, "--data", str(aligned_dataset), "--run-dir", str(run), "--epochs", "100000", *TINY)
    _wait_for_line(run / "metrics.jsonl", lambda r: r["kind"] == "step", proc)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=300)
    err = log.read_text()
    assert proc.returncode == 0, err
    assert "--resume" in err
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["kind"] == "finished" and records[-1]["reason"] == "stopped"
    assert records[-2]["kind"] == "checkpoint" and records[-2]["reason"] == "stop"
    assert load_training_state(run / "checkpoints/last.pt")["step"] == records[-1]["step"]


@pytest.mark.slow
def test_kill_9_of_the_cli_then_resume_is_bit_identical(aligned_dataset: Path, tmp_path: Path) -> None:
    # Depth 6 at 64 px: the smallest U-Net with dropout, so the global RNG matters every step.
    flags = [*TINY, "--depth", "6", "--crop-size", "64", "--load-size", "72", "--epochs", "8", "--epochs-decay", "4",
             "--checkpoint-every", "4", "--sample-every", "3", "--keep-checkpoints", "1", "--seed", "3"]
    straight = tmp_path / "straight"
    log = tmp_path / "stderr.txt"
    proc = _cli_process(log, "--data", str(aligned_dataset), "--run-dir", str(straight), *flags)
    assert proc.wait(timeout=300) == 0, log.read_text()

    run = tmp_path / "killed"
    # kill -9 after step 10: two steps past the step-8 checkpoint, so the resume redoes steps 9-10.
    proc = _cli_process(log, "--data", str(aligned_dataset), "--run-dir", str(run), *flags, kill_after_step=10)
    assert proc.wait(timeout=300) == -signal.SIGKILL, log.read_text()
    killed_at = load_training_state(run / "checkpoints/last.pt")["step"]
    assert killed_at == 8  # of 36: 3 steps an epoch × 12 epochs
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if r["kind"] == "step"][-1] == 10

    proc = _cli_process(log, "--resume", str(run))
    assert proc.wait(timeout=300) == 0, log.read_text()
    err = log.read_text()
    assert "resuming at step" in err and "finished (completed) at step 36" in err
    assert_identical(load_training_state(straight / "checkpoints/last.pt"),
                     load_training_state(run / "checkpoints/last.pt"))
    assert not list(run.rglob("*.tmp"))
