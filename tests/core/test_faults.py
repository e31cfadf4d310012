"""Training survives faults of its run folder: a disk that fills up (checkpoints, samples, logs),
a run folder deleted or made read-only under a running training. Real file systems where the
machine allows it (tests/fault_helpers.py): a tiny tmpfs filled to the last byte, a read-only
bind mount."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import core.train.loop as loop
from core.weights.checkpoints import load_training_state, load_weights
from core.cli import main
from core.train.events import CheckpointSaved, Event, Failed, Finished, Sample, Started, Step, Warning_
from core.train.loop import train
from tests.core.train_helpers import TINY_CLI_MODEL, of, tiny_config, tiny_sources, write_aligned_dataset
from tests.fault_helpers import SmallDisk, delete_folder, make_read_only

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = [*TINY_CLI_MODEL, "--batch-size", "2", "--device", "cpu", "--val-fraction", "0", "--seed", "1"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pix2pix aligned layout, 4 pairs: 2 steps an epoch at batch 2."""
    return write_aligned_dataset(tmp_path_factory.mktemp("data") / "streets", 4, size=40)


def _with_fault_after(monkeypatch: pytest.MonkeyPatch, when, fault) -> None:
    """The CLI's training stream, with `fault()` done right after the first event `when` accepts
    (a fault at a known point of the run, however fast the machine)."""
    original = loop.train

    def faulty(*args, **kwargs) -> Iterator[Event]:
        done = False
        for event in original(*args, **kwargs):
            yield event
            if not done and when(event):
                done = True
                fault()

    monkeypatch.setattr(loop, "train", faulty)


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_disk_full_at_a_checkpoint_stops_the_cli_run_keeps_the_last_one_and_resume_works_after(
        disk: SmallDisk, dataset: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run = disk.path / "run"
    _with_fault_after(monkeypatch, lambda e: isinstance(e, CheckpointSaved) and e.step == 2, disk.fill)
    code = main(["train", "--data", str(dataset), "--run-dir", str(run), "--epochs", "3", "--epochs-decay", "0",
                 "--checkpoint-every", "2", "--sample-every", "1000", *TINY])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 1
    assert "training failed at step 4" in line and "checkpoint step_0000004" in line and "disk full" in line
    assert "resume" in line and "last good checkpoint: " + str(run / "checkpoints" / "last.safetensors") in line
    # The previous checkpoint is intact; nothing half-written is left.
    assert load_training_state(run / "checkpoints/last.pt")["step"] == 2
    assert load_weights(run / "checkpoints/last.safetensors").card["step"] == 2
    assert not list(run.rglob("step_0000004*")) and not list(run.rglob("*.tmp"))

    disk.free()
    monkeypatch.undo()  # the plain CLI again
    assert main(["train", "--resume", str(run)]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "resuming at step 2" in err and "finished (completed) at step 6" in err
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]  # every line parses
    assert records[-1]["kind"] == "finished" and records[-1]["step"] == 6


def test_disk_full_for_samples_warns_once_and_training_goes_on(disk: SmallDisk, tmp_path: Path) -> None:
    run = disk.path / "run"
    cfg = tiny_config(depth=3, ngf=4, ndf=4, epochs=4, epochs_decay=0, sample_every=1, checkpoint_every=1000)
    events: list[Event] = []
    for event in train(cfg, run, sources=tiny_sources()):
        events.append(event)
        if isinstance(event, Sample) and event.step == 1:
            disk.fill()
        if isinstance(event, Sample) and event.step == 4:
            disk.free()  # space is back: samples are written again, the final checkpoint too
    warnings = [w.message for w in of(events, Warning_) if "sample images" in w.message]
    assert warnings == ["could not write sample images (disk full); training goes on without them until there "
                        "is space again"]
    assert events[-1] == Finished(step=8, epoch=3, reason="completed")
    written = sorted(p.name for p in (run / "samples").iterdir())
    assert "step_0000001.png" in written and "step_0000002.png" not in written and "step_0000005.png" in written
    assert load_training_state(run / "checkpoints/last.pt")["step"] == 8
    assert not list(run.rglob("*.tmp"))


def test_a_run_folder_deleted_under_the_cli_stops_it_in_one_line_and_is_not_recreated(
        tmp_path: Path, dataset: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    other = runs / "other"
    other.mkdir(parents=True)
    (other / "keep.txt").write_text("another run's file")
    run = runs / "run"
    _with_fault_after(monkeypatch, lambda e: isinstance(e, Step) and e.step == 3, lambda: delete_folder(run))
    # 100,000 epochs: without the fault the run would go on far longer than the test.
    code = main(["train", "--data", str(dataset), "--run-dir", str(run), "--epochs", "100000", "--epochs-decay", "0",
                 "--checkpoint-every", "2", "--sample-every", "1", *TINY])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 1
    assert f"the run folder {run} was deleted or moved away while training" in line
    assert not run.exists()  # no checkpoints/ or samples/ re-created where the run was
    assert (other / "keep.txt").read_text() == "another run's file"


def test_a_run_folder_made_read_only_stops_the_run_at_its_next_file_and_resume_works_after(tmp_path: Path) -> None:
    run = tmp_path / "run"
    cfg = tiny_config(depth=3, ngf=4, ndf=4, epochs=100_000, epochs_decay=0, sample_every=3, checkpoint_every=2)
    events: list[Event] = []
    undo = None
    try:
        for event in train(cfg, run, sources=tiny_sources()):
            events.append(event)
            if isinstance(event, CheckpointSaved) and event.step == 2:
                undo = make_read_only(run)
    finally:
        if undo is not None:
            undo()
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.step == 3, events[-3:]
    assert f"could not write sample images in {run}" in failed.message
    assert "read-only file system" in failed.message or "permission denied" in failed.message
    assert failed.last_checkpoint == str(run / "checkpoints" / "last.safetensors")
    assert not of(events, Finished)
    # Nothing else is lost: the step-2 checkpoint resumes once the folder is writable again.
    assert load_training_state(run / "checkpoints/last.pt")["step"] == 2
    resumed = list(train(cfg.replace(train=dataclasses.replace(cfg.train, max_steps=4)), run,
                         sources=tiny_sources(), resume=True))
    assert isinstance(resumed[0], Started) and resumed[0].start_step == 2
    assert resumed[-1] == Finished(step=4, epoch=1, reason="max_steps")
