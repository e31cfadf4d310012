""""Run on a cluster…": export the form's run as config.toml + torchrun/Slurm scripts.

The dialog builds the RunConfig exactly as Start does (the form's `state()`: same validation,
same reason when it is invalid), sets `world_size` to nodes × processes per node, and shows the
command lines `core.train.distributed.cluster_commands` makes for it. Export writes, into the
output folder (default: runs folder / run name):

    config.toml     the run's settings (with the effective batch size noted, as a run writes it)
    torchrun.sh     the plain torchrun line (run it on every machine)
    train.sbatch    a Slurm script (`sbatch train.sbatch`)

The scripts start the run with `--config <folder>/config.toml --run-dir <folder>
--resume-if-exists`, so the first job starts at step 0 and a requeued/restarted job continues
from the last checkpoint. The folder is a run folder from the start: the History tab lists it,
and opening it shows the curves as the cluster job writes metrics.jsonl ("not started yet" until
then). The files are written on the panel's background task runner (the output folder may be
on a slow network file system).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox,
    QVBoxLayout, QWidget,
)

from core.config import RunConfig
from core.errors import ConfigError, UserError
from desktop.training.checkpoints_view import CommandLine
from desktop.training.form import FormState
from desktop.tasks import TaskRunner, error_message

CONFIG_FILE = "config.toml"
TORCHRUN_FILE = "torchrun.sh"
SBATCH_FILE = "train.sbatch"
_ENDPOINT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:(\d{1,5})$")


@dataclass(frozen=True)
class ClusterExport:
    """What Export writes: the config (world_size set) and the commands for it."""

    config: RunConfig
    folder: Path
    torchrun: str
    slurm_script: str


def plan_export(cfg: RunConfig, folder: Path, nnodes: int, nproc_per_node: int, rdzv_endpoint: str) -> ClusterExport:
    """The config and command lines for `cfg` on nnodes × nproc_per_node processes in `folder`.
    Raises ConfigError with a one-line reason (bad endpoint, bad counts)."""
    from core.train.distributed import cluster_commands  # torch import: only when the dialog is used

    if nnodes > 1 and not _ENDPOINT.match(rdzv_endpoint.strip()):
        raise ConfigError(f"rendezvous endpoint {rdzv_endpoint!r} is not HOST:PORT (the first machine and a free port)")
    folder = folder.expanduser().absolute()
    cfg = cfg.replace(world_size=nnodes * nproc_per_node)
    cmds = cluster_commands(cfg, nproc_per_node, nnodes, config_path=folder / CONFIG_FILE, run_dir=folder,
                            rdzv_endpoint=rdzv_endpoint.strip() or "HEAD_NODE_HOSTNAME:29500")
    return ClusterExport(cfg, folder, cmds.torchrun, cmds.slurm_script)


def write_export(plan: ClusterExport) -> Path:
    """Write the scripts, then config.toml (last: the folder becomes a run in History only when
    complete). Refuses a folder that already holds a run. Runs on a pool thread."""
    from core.io.atomic import atomic_write_text
    from core.train.distributed import write_run_config

    folder = plan.folder
    if (folder / CONFIG_FILE).exists():
        raise UserError(f"{folder} already holds a run (config.toml): choose another folder or run name")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        torchrun_sh, sbatch = folder / TORCHRUN_FILE, folder / SBATCH_FILE
        atomic_write_text(torchrun_sh, "#!/bin/bash\nset -euo pipefail\n" + plan.torchrun + "\n")
        atomic_write_text(sbatch, plan.slurm_script)
        for path in (torchrun_sh, sbatch):
            path.chmod(0o755)
        write_run_config(plan.config, folder / CONFIG_FILE)
    except OSError as exc:
        raise UserError(f"{folder}: cannot write the cluster files ({exc.strerror or exc})") from exc
    return folder


class ClusterDialog(QDialog):
    """Nodes, processes per node, rendezvous endpoint and output folder -> commands + Export."""

    exported = Signal(str)  # the folder the files were written to
    open_requested = Signal(str)  # "Open in monitor" after an export

    def __init__(self, form_state: Callable[[], FormState], tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run on a cluster")
        self._form_state = form_state
        self._tasks = tasks
        self._plan: ClusterExport | None = None
        self._folder_edited = False  # the user typed a folder: stop following the form's run name
        self._exported_folder: Path | None = None

        self.nodes_spin = QSpinBox()
        self.nodes_spin.setRange(1, 4096)
        self.nodes_spin.setToolTip("Machines (Slurm --nodes)")
        self.nproc_spin = QSpinBox()
        self.nproc_spin.setRange(1, 64)
        self.nproc_spin.setToolTip("Processes per machine, one per GPU (torchrun --nproc-per-node)")
        self.endpoint_edit = QLineEdit("HEAD_NODE_HOSTNAME:29500")
        self.endpoint_edit.setToolTip("Multi-node only: HOST:PORT of the first machine, for the plain torchrun "
                                      "line (the Slurm script finds its head node itself)")
        self.folder_edit = QLineEdit()
        self.browse_button = QPushButton("Browse…")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        fields = QFormLayout()
        fields.addRow("Nodes:", self.nodes_spin)
        fields.addRow("Processes per node:", self.nproc_spin)
        fields.addRow("Rendezvous (HOST:PORT):", self.endpoint_edit)
        fields.addRow("Output folder:", folder_row)

        self.torchrun_line = CommandLine("torchrun:")
        self.slurm_text = QPlainTextEdit()
        self.slurm_text.setReadOnly(True)
        self.slurm_text.setStyleSheet("font-family: monospace;")
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.export_button = QPushButton("Export")
        self.export_button.setToolTip("Write config.toml, torchrun.sh and train.sbatch into the output folder")
        self.open_button = QPushButton("Open in monitor")
        self.open_button.setToolTip("Show the exported run; its curves fill in as the cluster job trains")
        self.open_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.message_label, 1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(fields)
        layout.addWidget(self.torchrun_line)
        layout.addWidget(QLabel("Slurm script (train.sbatch):"))
        layout.addWidget(self.slurm_text, 1)
        layout.addLayout(buttons)
        self.resize(820, 560)

        self.nodes_spin.valueChanged.connect(self.refresh)
        self.nproc_spin.valueChanged.connect(self.refresh)
        self.endpoint_edit.textChanged.connect(self.refresh)
        self.folder_edit.textEdited.connect(self._on_folder_edited)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.close_button.clicked.connect(self.close)
        self.refresh()

    # ------------------------------------------------------------------ state
    def plan(self) -> ClusterExport | None:
        return self._plan

    def refresh(self) -> None:
        """Re-read the form and show the commands (or the reason there are none)."""
        self.endpoint_edit.setEnabled(self.nodes_spin.value() > 1)
        state = self._form_state()
        if not self._folder_edited and state.run_dir is not None:
            self.folder_edit.setText(str(state.run_dir))
        self._plan = None
        if not state.valid or state.config is None:
            self._show_commands("", "")
            self._show_message(state.message, error=True)
            return
        folder_text = self.folder_edit.text().strip()
        if not folder_text:
            self._show_commands("", "")
            self._show_message("choose an output folder", error=True)
            return
        try:
            self._plan = plan_export(state.config, Path(folder_text), self.nodes_spin.value(),
                                     self.nproc_spin.value(), self.endpoint_edit.text())
        except (ConfigError, UserError) as exc:
            self._show_commands("", "")
            self._show_message(str(exc), error=True)
            return
        self._show_commands(self._plan.torchrun, self._plan.slurm_script)
        world = self._plan.config.world_size
        self._show_message(f"{world} process(es), effective batch {self._plan.config.effective_batch_size}; "
                           f"Export writes into {self._plan.folder}")

    def _show_commands(self, torchrun: str, slurm: str) -> None:
        self.torchrun_line.set_command(torchrun)
        self.slurm_text.setPlainText(slurm)

    def _show_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #c0392b; font-weight: bold;" if error else "")

    # ------------------------------------------------------------------ slots
    def _on_folder_edited(self) -> None:
        self._folder_edited = True
        self.refresh()

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder for the cluster run", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)
            self._on_folder_edited()

    def _on_export_clicked(self) -> None:
        self.refresh()  # the form may have changed since the dialog opened
        plan = self._plan
        if plan is None:
            return  # refresh() shows the reason
        self.export_button.setEnabled(False)
        self._show_message(f"Writing {plan.folder}…")
        self._tasks.submit(lambda: write_export(plan), self._on_export_written, self._on_export_failed,
                           key="cluster-export")

    def _on_export_written(self, folder: Path) -> None:
        self.export_button.setEnabled(True)
        self._exported_folder = folder
        self.open_button.setEnabled(True)
        self._show_message(f"Wrote {CONFIG_FILE}, {TORCHRUN_FILE} and {SBATCH_FILE} into {folder}. "
                           f"Submit with `sbatch {SBATCH_FILE}` there; the History tab lists the run.")
        self.exported.emit(str(folder))

    def _on_export_failed(self, exc: BaseException) -> None:
        self.export_button.setEnabled(True)
        self._show_message(error_message(exc), error=True)

    def _on_open_clicked(self) -> None:
        if self._exported_folder is not None:
            self.open_requested.emit(str(self._exported_folder))
