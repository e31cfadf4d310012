"""The training panel's "Run on a cluster…" dialog: real clicks, real files, the real
core.train.distributed.cluster_commands. Nothing is trained (the exported run is for a cluster)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.config import load_run_config
from desktop.training import TrainingPanel
from desktop.training.cluster_dialog import ClusterDialog

pytest.importorskip("core.train.distributed")
from core.train.distributed import cluster_commands

WAIT_MS = 30_000


def make_panel(qtbot, runs_dir: Path) -> TrainingPanel:
    panel = TrainingPanel(runs_dir)
    qtbot.addWidget(panel)
    f = panel.form
    click(qtbot, f.synthetic_radio)  # no dataset folder to check: the form is valid at once
    f.depth_spin.setValue(3)
    f.ngf_spin.setValue(4)
    f.batch_spin.setValue(3)
    f.set_run_name("big-run")
    panel.resize(1000, 800)
    panel.show()
    return panel


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_dialog(qtbot, panel: TrainingPanel) -> ClusterDialog:
    click(qtbot, panel.cluster_button)
    dialog = panel.cluster_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def set_spin(qtbot, spin, value: int) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    assert spin.value() == value


def test_export_writes_the_config_and_the_commands_it_shows_then_history_opens_it(qtbot, tmp_path):
    runs = tmp_path / "runs"
    panel = make_panel(qtbot, runs)
    dialog = open_dialog(qtbot, panel)
    run_dir = (runs / "big-run").absolute()
    assert Path(dialog.folder_edit.text()) == runs / "big-run"  # default: runs folder / run name
    assert not dialog.endpoint_edit.isEnabled()  # one node: no rendezvous endpoint to give

    set_spin(qtbot, dialog.nodes_spin, 2)
    set_spin(qtbot, dialog.nproc_spin, 4)
    assert dialog.endpoint_edit.isEnabled()
    dialog.endpoint_edit.selectAll()
    qtbot.keyClicks(dialog.endpoint_edit, "gpu-node-01:29400")

    expected_cfg = panel.form.build_config().replace(world_size=8)  # what Start would train, on 8 processes
    expected = cluster_commands(expected_cfg, 4, 2, config_path=run_dir / "config.toml", run_dir=run_dir,
                                rdzv_endpoint="gpu-node-01:29400")
    assert dialog.torchrun_line.command() == expected.torchrun
    assert dialog.slurm_text.toPlainText() == expected.slurm_script
    assert "--nproc-per-node=4" in expected.torchrun and "--nnodes=2" in expected.torchrun
    assert "--rdzv-endpoint=gpu-node-01:29400" in expected.torchrun

    with qtbot.waitSignal(dialog.exported, timeout=WAIT_MS) as exported:
        click(qtbot, dialog.export_button)
    assert Path(exported.args[0]) == run_dir
    assert load_run_config(run_dir / "config.toml") == expected_cfg
    sbatch = (run_dir / "train.sbatch").read_text(encoding="utf-8")
    assert sbatch == expected.slurm_script
    assert "--nproc-per-node=4" in sbatch and "#SBATCH --nodes=2" in sbatch and str(run_dir) in sbatch
    torchrun_sh = (run_dir / "torchrun.sh").read_text(encoding="utf-8")
    assert torchrun_sh.startswith("#!/bin/bash") and expected.torchrun in torchrun_sh
    assert os.access(run_dir / "train.sbatch", os.X_OK) and os.access(run_dir / "torchrun.sh", os.X_OK)
    assert "train.sbatch" in dialog.message_label.text()

    # The folder now holds a run: Start refuses the same name, and History lists it.
    assert not panel.start_button.isEnabled()
    assert "already exists" in panel.status_label.text()
    qtbot.waitUntil(lambda: [r.path for r in panel.history.runs()] == [runs / "big-run"], timeout=WAIT_MS)

    # Open it to monitor it: nothing has trained yet, and the panel says so.
    click(qtbot, dialog.open_button)
    qtbot.waitUntil(lambda: "not started yet" in panel.status_label.text(), timeout=WAIT_MS)
    assert panel.tabs.currentWidget() is panel.monitor
    assert str(run_dir) in panel.run_folder_label.text()


def test_an_invalid_form_or_an_occupied_folder_writes_nothing_and_says_why(qtbot, tmp_path):
    runs = tmp_path / "runs"
    panel = make_panel(qtbot, runs)
    panel.form.name_edit.clear()
    dialog = open_dialog(qtbot, panel)
    assert dialog.torchrun_line.command() == "" and dialog.slurm_text.toPlainText() == ""
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "run name is empty" in dialog.message_label.text()  # the form's own reason, as next to Start
    assert not runs.exists()

    # A valid form, but a multi-node endpoint that is not HOST:PORT.
    qtbot.keyClicks(panel.form.name_edit, "ok-name")  # the open dialog follows the form
    assert "ok-name" in dialog.torchrun_line.command()
    set_spin(qtbot, dialog.nodes_spin, 3)
    dialog.endpoint_edit.selectAll()
    qtbot.keyClicks(dialog.endpoint_edit, "no port")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "HOST:PORT" in dialog.message_label.text()
    assert not runs.exists()

    # A chosen folder that already holds a run is refused (its config.toml is left as it was).
    other = tmp_path / "someone-elses-run"
    other.mkdir()
    (other / "config.toml").write_text("# theirs\n", encoding="utf-8")
    set_spin(qtbot, dialog.nodes_spin, 1)
    dialog.folder_edit.selectAll()
    qtbot.keyClicks(dialog.folder_edit, str(other))
    assert dialog.torchrun_line.command()  # the commands for that folder are shown
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(lambda: "already holds a run" in dialog.message_label.text(), timeout=WAIT_MS)
    assert (other / "config.toml").read_text(encoding="utf-8") == "# theirs\n"
    assert not (other / "train.sbatch").exists()
