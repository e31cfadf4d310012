"""Runs you can find (issue 20 §1): one run list for history, compare and the checkpoints tab;
runs in the runs folder, in folders opened with *Open run folder…* and in folders a checkpoint was
opened from; a run trained by `roadstudio-cli` elsewhere is found and followed live; the runs
folder, the remembered folders, the last dataset and the splitters survive a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt

from core.labels import ID_TO_COLOR
from desktop import settings
from desktop.training import TrainingPanel
from desktop.training.run_files import summarize_run
from desktop.training.run_registry import RunRegistry
from tests.core.train_helpers import tiny_pairs

WAIT_MS = 120_000  # only turns a hang into a failure on a busy machine
REPO = Path(__file__).resolve().parents[2]
TINY = ["--data", "synthetic", "--synthetic-count", "8", "--depth", "3", "--ngf", "4", "--ndf", "4",
        "--crop-size", "32", "--batch-size", "2", "--epochs", "100000", "--epochs-decay", "0", "--device", "cpu"]


def cli_run(run_dir: Path, steps: int = 4, every: int = 2) -> Path:
    """A finished run made by `roadstudio-cli train` (in-process: the CLI's own entry point)."""
    from core.cli import main as cli_main

    code = cli_main(["train", *TINY, "--max-steps", str(steps), "--sample-every", str(every),
                     "--checkpoint-every", str(every), "--run-dir", str(run_dir)])
    assert code == 0
    return run_dir


def listed(paths: list[Path], combo) -> bool:
    shown = {combo.itemData(i) for i in range(combo.count())}
    return all(str(p) in shown for p in paths)


def history_paths(panel: TrainingPanel) -> set[Path]:
    return {r.path for r in panel.history.runs()}


@pytest.fixture
def live_cli_run(tmp_path: Path):
    """`python -m core train` training (slowly, for ever) into a folder nobody told the app about."""
    run_dir = tmp_path / "elsewhere" / "cli-live"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "core", "train", *TINY, "--sample-every", "5",
                             "--checkpoint-every", "20", "--run-dir", str(run_dir)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    yield run_dir, proc
    proc.kill()
    proc.wait(30)
    if proc.stderr is not None:
        proc.stderr.close()


@pytest.mark.slow  # a training run (a CLI process, or the panel's); ~25 s on the busy 2-core machine
def test_a_cli_run_trained_elsewhere_is_found_and_followed_live(qtbot, tmp_path, live_cli_run) -> None:
    run_dir, proc = live_cli_run
    registry = RunRegistry(tmp_path / "runs", poll_ms=250)
    panel = TrainingPanel(tmp_path / "runs", registry=registry)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    assert run_dir not in history_paths(panel)

    panel.open_run_folder(run_dir.parent)  # *Open run folder…* on the folder the CLI wrote into
    qtbot.waitUntil(lambda: run_dir in history_paths(panel) or proc.poll() is not None, timeout=WAIT_MS)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    qtbot.waitUntil(lambda: (registry.find(run_dir) or summarize_run(run_dir)).status == "training",
                    timeout=WAIT_MS)
    item = next(panel.history.list.item(i) for i in range(panel.history.list.count())
                if panel.history.list.item(i).data(Qt.ItemDataRole.UserRole) == str(run_dir))
    assert "training" in item.text()
    assert panel.history.select_run(run_dir)
    assert not panel.history.resume_button.isEnabled()  # another process trains it: no second writer

    qtbot.mouseClick(panel.history.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.monitor.state_label.text().startswith("Training in another process"),
                    timeout=WAIT_MS)
    first = len(panel.monitor.l1_chart.series("G_L1"))
    # Live: the curves grow as the CLI writes metrics.jsonl, with nobody clicking anything.
    with qtbot.waitSignal(panel.run_updated_live, timeout=WAIT_MS):
        pass
    qtbot.waitUntil(lambda: len(panel.monitor.l1_chart.series("G_L1")) > first, timeout=WAIT_MS)
    assert panel.tabs.currentWidget() is panel.monitor
    assert panel.run_combo.currentData() == str(run_dir)  # the checkpoints tab shows the same run
    qtbot.waitUntil(lambda: panel.monitor.sample_view.image() is not None, timeout=WAIT_MS)
    panel.shutdown()


def test_every_view_lists_the_same_runs_and_a_checkpoint_selects_its_run(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    window.resize(1300, 850)
    window.show()
    panel = window.training_panel
    in_runs_folder = cli_run(panel.runs_dir() / "panel-folder-run")  # where the panel's own runs go
    elsewhere = cli_run(tmp_path / "experiments" / "cli-run", steps=6)
    panel.refresh_history()
    window.compare.set_active(True)
    compare = window.compare.panel
    qtbot.waitUntil(lambda: in_runs_folder in history_paths(panel), timeout=WAIT_MS)
    assert elsewhere not in history_paths(panel)
    qtbot.waitUntil(lambda: listed([in_runs_folder], compare.run_combo), timeout=WAIT_MS)
    assert listed([in_runs_folder], panel.run_combo)

    # Compare ▸ A ▸ Open… on a checkpoint inside a run no list knew yet.
    step4 = elsewhere / "checkpoints" / "step_0000004.safetensors"
    assert step4.is_file()
    with qtbot.waitSignal(compare.run_loaded, timeout=WAIT_MS):
        compare.open_checkpoint("A", step4)
    assert compare.run_dir == elsewhere
    assert compare.run_combo.currentData() == str(elsewhere)
    assert compare.step_label.text().startswith("step 4 ")
    assert compare.checkpoints[compare.step_slider.value()].weights_path == step4
    # ...and the run is now in every list (its folder is remembered).
    qtbot.waitUntil(lambda: elsewhere in history_paths(panel), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: listed([in_runs_folder, elsewhere], compare.run_combo), timeout=WAIT_MS)
    assert listed([in_runs_folder, elsewhere], panel.run_combo)
    assert tmp_path / "experiments" in panel.registry.places()

    # Opening a B checkpoint of a run selects that run too, without moving A.
    a_source = window.compare.controller.source("A")
    step2 = in_runs_folder / "checkpoints" / "step_0000002.safetensors"
    with qtbot.waitSignal(compare.run_loaded, timeout=WAIT_MS):
        compare.open_checkpoint("B", step2)
    assert compare.run_combo.currentData() == str(in_runs_folder)
    assert compare.step_label.text().startswith("B: step 2 ")
    assert window.compare.controller.source("A") == a_source


def _aligned_dataset(root: Path) -> Path:
    (root / "train").mkdir(parents=True)
    for i, (ids, photo) in enumerate(tiny_pairs(6, size=64)):
        Image.fromarray(np.concatenate([photo, ID_TO_COLOR[ids]], axis=1)).save(root / "train" / f"{i}.jpg",
                                                                                quality=95)
    return root


def test_runs_folder_remembered_folders_dataset_and_splitters_survive_a_restart(make_window, qtbot,
                                                                                tmp_path) -> None:
    custom = tmp_path / "my runs"
    run_a = cli_run(custom / "a")
    run_b = cli_run(tmp_path / "shared" / "b")
    data = _aligned_dataset(tmp_path / "streets")

    window = make_window()
    window.resize(1300, 850)
    window.show()
    window.training_dock.show()
    panel = window.training_panel
    form = panel.form
    panel.tabs.setCurrentWidget(form)
    form.runs_edit.selectAll()
    qtbot.keyClicks(form.runs_edit, str(custom))  # typed, then Enter: as a user changes it
    qtbot.keyClick(form.runs_edit, Qt.Key.Key_Return)
    assert panel.runs_dir() == custom
    panel.open_run_folder(run_b)  # one run folder, opened on its own
    form.folder_edit.setText(str(data))
    qtbot.mouseClick(form.folder_radio, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not form.probe_pending, timeout=WAIT_MS)
    assert "usable pairs" in form.check_label.text()
    qtbot.waitUntil(lambda: {run_a, run_b} <= history_paths(panel), timeout=WAIT_MS)
    monitor = panel.monitor
    panel.tabs.setCurrentWidget(monitor)
    qtbot.waitUntil(lambda: monitor.splitter.sizes()[0] > 0, timeout=5000)
    total = sum(monitor.splitter.sizes())
    monitor.splitter.setSizes([total // 3, total - total // 3])
    arranged = monitor.splitter.sizes()
    window.close()  # saves the window state and the splitters
    window.training_panel.registry.shutdown()

    # The settings object is made again from its file: nothing carried over in memory.
    store = settings.settings()
    assert isinstance(store, QSettings) and Path(store.fileName()).is_file()
    assert Path(str(store.value("runs/folder"))) == custom

    again = make_window()
    again.show()
    qtbot.waitExposed(again)
    panel = again.training_panel
    assert panel.runs_dir() == custom and panel.form.runs_edit.text() == str(custom)
    assert run_b in panel.registry.places()
    qtbot.waitUntil(lambda: {run_a, run_b} <= history_paths(panel), timeout=WAIT_MS)
    assert panel.form.folder_radio.isChecked() and panel.form.folder_edit.text() == str(data)
    assert again.training_dock.isVisible()
    panel.tabs.setCurrentWidget(panel.form)  # the remembered dataset is checked once the form shows
    qtbot.waitUntil(lambda: not panel.form.probe_pending, timeout=WAIT_MS)
    assert "usable pairs" in panel.form.check_label.text()
    panel.tabs.setCurrentWidget(panel.monitor)
    restored = panel.monitor.splitter
    qtbot.waitUntil(lambda: restored.sizes()[0] > 0, timeout=5000)
    assert abs(restored.sizes()[0] - arranged[0]) <= 0.05 * total


@pytest.mark.slow  # a training run (a CLI process, or the panel's); ~25 s on the busy 2-core machine
def test_a_run_trained_in_the_panel_keeps_its_live_pictures_once_it_ends(qtbot, tmp_path) -> None:
    """The run list notices the files of a run the panel just trained; that must not make the
    monitor re-read it from disk (the canvas rendering is not on disk and would vanish)."""
    from tests.desktop.test_training_panel import Recorder, click, make_panel, wait_idle

    panel = make_panel(qtbot, tmp_path, sample_every=2)
    rec = Recorder(panel)
    panel.set_canvas_labels(np.full((24, 40), 7, np.uint8))
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: panel.monitor.canvas_view.image() is not None or bool(rec.failures), timeout=WAIT_MS)
    run_dir = panel.run_dir
    assert run_dir is not None
    click(qtbot, panel.stop_button)
    wait_idle(qtbot, panel)
    # The run list has read the finished run (its last writes: run_updated was emitted for it).
    qtbot.waitUntil(lambda: (panel.registry.find(run_dir) or summarize_run(tmp_path)).status == "finished",
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not panel._tasks.busy, timeout=WAIT_MS)
    assert panel.monitor.canvas_view.image() is not None
    assert panel.monitor.state_label.text().startswith("Finished")
