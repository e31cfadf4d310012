"""The training panel: set up, start, watch, pause, resume and stop pix2pix runs.

Public API for the main window (everything else is internal):

signals
    use_in_canvas_requested(str)   a generator .safetensors the user wants in the canvas preview
    run_started(str)               run folder of a run that began (new or resumed)
    run_finished(str)              run folder of a run whose worker thread ended (any reason)
    event_emitted(object)          every core.train.events event of the current run (GUI thread)
    failed(str)                    a run ended with an error (the message is also shown here)

slots / methods
    set_canvas_labels(ids)         the canvas's current label ids (uint8 H×W); call on stroke_finished
    set_canvas_labels_provider(f)  alternatively a callable returning the ids, read when a run starts
    request_close() -> bool        from closeEvent: asks when a run trains; True = OK to close
    shutdown()                     stops a run (checkpoint first) and joins every thread
    runs_dir() -> Path, open_run(path), resume_run(path), start_run(), stop_run(), toggle_pause()
    registry                       the RunRegistry every run list (history, compare, this tab) shows
    open_run_folder()              *Open run folder…*: a folder of runs, or one run

The runs folder defaults to Documents/RoadStudio/runs (QStandardPaths), or ./runs where the
platform has no documents folder. The History tab lists every run the RunRegistry knows: the runs
folder, folders runs or checkpoints were opened from, and folders added with *Open run folder…*;
runs started with `roadstudio-cli train --run-dir <anywhere>` too, live while they train.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QStandardPaths, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QTabWidget, QVBoxLayout, QWidget,
)

from core.config import RunConfig, load_run_config
from core.train.events import CheckpointSaved, Failed, Finished, Paused, Resumed, Sample, Started
from desktop.training.checkpoints_view import CheckpointsView, CommandLine
from desktop.training.cluster_dialog import ClusterDialog
from desktop.training.form import SetupForm
from desktop.training.history import HistoryView
from desktop.training.images import load_qimage
from desktop.training.monitor import MonitorView
from desktop.training.photos_first import AutolabelProgress, autolabel_then_train, photos_config
from desktop.training.pinned_view import PinnedView
from desktop.training.run_files import CheckpointInfo, RunHistory, list_checkpoints, read_history
from desktop.training.run_registry import RunRegistry, Store
from desktop.tasks import TaskRunner, error_message
from desktop.training.wide_image import ElidedLabel
from desktop.training.worker import TrainFn, TrainingSession

LabelsProvider = Callable[[], "np.ndarray | None"]


def default_runs_dir() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents:
        return Path(documents) / "RoadStudio" / "runs"
    return Path.cwd() / "runs"


def cli_commands(run_dir: Path) -> tuple[str, str, str]:
    """(start, resume, tensorboard) commands equivalent to what the panel does for `run_dir`.

    `start` trains the same settings headless; it needs a fresh folder (the engine never
    overwrites a run), hence `<run>-cli`. `resume` continues this very run exactly."""
    q = _quote
    fresh = run_dir.with_name(run_dir.name + "-cli")
    start = f"roadstudio-cli train --config {q(run_dir / 'config.toml')} --run-dir {q(fresh)}"
    resume = f"roadstudio-cli train --resume {q(run_dir)}"
    tensorboard = f"tensorboard --logdir {q(run_dir / 'tensorboard')}"
    return start, resume, tensorboard


def _quote(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


@dataclass(frozen=True)
class _Reopened:
    config: RunConfig | None
    config_error: str | None
    history: RunHistory
    checkpoints: list[CheckpointInfo]
    sample: QImage | None
    sample_step: int | None


def _read_run(run_dir: Path) -> _Reopened:
    """Everything the panel shows about a run, read in a background task."""
    from core.errors import ConfigError

    try:
        config, error = load_run_config(run_dir / "config.toml"), None
    except ConfigError as exc:
        config, error = None, str(exc)
    history = read_history(run_dir)
    sample = load_qimage(history.latest_sample) if history.latest_sample else None
    step = int(history.latest_sample.stem.split("_")[-1]) if history.latest_sample else None
    return _Reopened(config, error, history, list_checkpoints(run_dir), sample, step)


def _lift_reached_step_limit(cfg: RunConfig, history: RunHistory) -> RunConfig:
    """A run that ended at its --max-steps limit would finish again at once when resumed; asking
    to resume it means "keep training", so the limit is lifted (max_steps is one of the settings a
    resume may change) and the run goes on to its planned epochs."""
    limit = cfg.train.max_steps
    last = history.steps[-1] if history.steps else 0
    if limit and last >= limit:
        return cfg.replace(train=dataclasses.replace(cfg.train, max_steps=0))
    return cfg


class TrainingPanel(QWidget):
    use_in_canvas_requested = Signal(str)
    run_started = Signal(str)
    run_finished = Signal(str)
    event_emitted = Signal(object)
    failed = Signal(str)
    run_updated_live = Signal(str)  # the shown run (trained elsewhere) was re-read after it wrote

    def __init__(self, runs_dir: Path | None = None, parent: QWidget | None = None, *,
                 train_fn: TrainFn | None = None, store: Store | None = None,
                 registry: RunRegistry | None = None) -> None:
        """`store`: the settings the runs folder, the remembered run folders and the last dataset
        are kept in (the main window's); without one nothing is remembered (tests)."""
        super().__init__(parent)
        self.setObjectName("TrainingPanel")
        self._store = store
        self.registry = registry or RunRegistry(runs_dir or default_runs_dir(), self, store=store)
        self._tasks = TaskRunner(self, max_threads=2)
        self._train_fn = train_fn  # None: core.train.loop.train (tests may wrap it)
        self._autolabel_segmenter: str | None = None  # None: the bundled 19-class segmenter
        self._test_sources: Any = None
        self._session: TrainingSession | None = None
        self._run_dir: Path | None = None
        self._shown_run: Path | None = None  # the run the monitor/checkpoints tabs show
        self._labels_provider: LabelsProvider | None = None
        self._canvas_labels: np.ndarray | None = None
        self._stopping = False
        self._run_combo_entries: list[tuple[str, str]] | None = None  # what the Run picker lists
        # The run opened from disk (History, Open run folder…) that the monitor re-reads when it
        # writes; never the run this panel trains (its events feed the monitor directly).
        self._followed: Path | None = None
        self._last_error: str | None = None  # shown instead of the form state until the form changes
        self._keep_error = False

        self.form = SetupForm(self.registry.runs_dir(), self._tasks)
        self.monitor = MonitorView()
        self.checkpoints = CheckpointsView()
        self.history = HistoryView()
        self.pinned = PinnedView()  # pinned paintings as film strips (desktop/training/pinned_view.py)
        self.pinned.set_labels_provider(self._current_canvas_labels)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        # Start / Pause / Stop and the status sit beside the tabs, not on a row of their own:
        # every pixel of height goes to the monitor's pictures (issue 20 §2).
        controls = QWidget()
        controls.setLayout(self._build_controls())
        self.tabs.setCornerWidget(controls, Qt.Corner.TopRightCorner)
        self.tabs.addTab(self.form, "Set-up")
        self.tabs.addTab(self.monitor, "Monitor")
        self.tabs.addTab(self._build_run_tab(), "Run && checkpoints")
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(self.pinned, "Pinned")
        self.event_emitted.connect(self.pinned.handle_event)
        layout.addWidget(self.tabs, 1)

        self.form.changed.connect(self._on_form_changed)
        self.form.runs_dir_changed.connect(self._on_form_runs_dir_changed)
        self.form.dataset_checked.connect(self._on_form_dataset_checked)
        self.checkpoints.use_in_canvas_requested.connect(self.use_in_canvas_requested)
        self.history.refresh_requested.connect(self.refresh_history)
        self.history.open_requested.connect(lambda p: self.open_run(Path(p)))
        self.history.resume_requested.connect(lambda p: self.resume_run(Path(p)))
        self.history.open_folder_requested.connect(self.open_run_folder)
        self.registry.runs_changed.connect(self._on_registry_runs_changed)
        self.registry.run_updated.connect(self._on_registry_run_updated)
        self.registry.place_added.connect(lambda _p: self._show_places())
        self._restore_dataset()
        self.form.set_run_name(self._suggest_name())
        self._update_controls()
        self._show_places()
        self._on_registry_runs_changed()

    # ------------------------------------------------------------------ layout
    def _build_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setContentsMargins(8, 0, 2, 0)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Write the run's config.toml and start training")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Save a checkpoint and stop (resume it later from History)")
        self.start_button.clicked.connect(self.start_run)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_run)
        self.status_label = ElidedLabel(hint_width=520)  # one line; the whole text is its tooltip
        self.cluster_button = QPushButton("Run on a cluster…")
        self.cluster_button.setToolTip(
            "Export this set-up with torchrun / Slurm command lines to train on GPUs elsewhere")
        self.cluster_button.clicked.connect(self._on_cluster_button_clicked)
        self.cluster_dialog: ClusterDialog | None = None
        row.addWidget(self.status_label, 1)
        for button in (self.start_button, self.pause_button, self.stop_button, self.cluster_button):
            row.addWidget(button)
        return row

    def _build_run_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Run"))
        self.run_combo = QComboBox()  # the same runs as History and compare's Run list
        self.run_combo.setPlaceholderText("choose a run")
        self.run_combo.setMinimumContentsLength(24)
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_combo.activated.connect(self._on_run_combo_activated)
        self.open_folder_button = QPushButton("Open run folder…")
        self.open_folder_button.setToolTip("Add a folder of runs (or one run) to the run lists; it is remembered")
        self.open_folder_button.clicked.connect(self.open_run_folder)
        picker.addWidget(self.run_combo, 1)
        picker.addWidget(self.open_folder_button)
        layout.addLayout(picker)
        self.run_folder_label = QLabel("No run open.")
        self.run_folder_label.setWordWrap(True)
        self.run_folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cli_start = CommandLine("Same settings, headless:")
        self.cli_resume = CommandLine("Continue this run, headless:")
        layout.addWidget(self.run_folder_label)
        layout.addWidget(self.cli_start)
        layout.addWidget(self.cli_resume)
        layout.addWidget(self.checkpoints, 1)
        return tab

    # ------------------------------------------------------------------ public API
    def runs_dir(self) -> Path:
        return self.form.runs_dir()

    @property
    def is_running(self) -> bool:
        return self._session is not None

    @property
    def run_dir(self) -> Path | None:
        """The folder of the run being trained (None when idle)."""
        return self._run_dir

    @property
    def session(self) -> TrainingSession | None:
        return self._session

    def set_canvas_labels_provider(self, provider: LabelsProvider | None) -> None:
        self._labels_provider = provider

    def _current_canvas_labels(self) -> np.ndarray | None:
        return self._labels_provider() if self._labels_provider is not None else self._canvas_labels

    def set_canvas_labels(self, ids: np.ndarray | None) -> None:
        """Slot for the canvas's stroke_finished: the painting to render with the training weights."""
        self._canvas_labels = None if ids is None else np.array(ids, dtype=np.uint8, copy=True)
        if self._session is not None:
            self._session.set_preview_labels(self._canvas_labels)

    def _poll_canvas_labels(self) -> None:
        """Re-read the provider once per sample interval, so the next canvas preview shows the
        painting as it is now even when the main window does not call set_canvas_labels."""
        if self._labels_provider is None or self._session is None:
            return
        ids = self._labels_provider()
        if ids is not None:
            self._session.set_preview_labels(np.asarray(ids, dtype=np.uint8))

    def set_test_sources(self, sources: Any) -> None:
        """Test hook: pass `sources` to core.train.loop.train instead of opening cfg.data."""
        self._test_sources = sources

    def start_run(self) -> bool:
        """Start a new run from the form. False (with the reason shown) when the form is invalid."""
        if self._session is not None:
            return False
        state = self.form.state()
        if not state.valid or state.config is None or state.run_dir is None:
            self._show_status(state.message, error=True)
            return False
        if self.form.photos_only:
            # Photos alone: the worker labels them into the run folder first, then trains on that.
            photos = Path(state.config.data.path)
            return self._launch(photos_config(state.config, state.run_dir), state.run_dir, resume=False,
                                train_fn=autolabel_then_train(photos, self._train_fn, self._autolabel_segmenter))
        return self._launch(state.config, state.run_dir, resume=False)

    def resume_run(self, run_dir: Path) -> bool:
        """Continue `run_dir` from checkpoints/last.pt (after an app restart, or a CLI run)."""
        if self._session is not None:
            return False
        run_dir = Path(run_dir)
        if not (run_dir / "checkpoints" / "last.pt").is_file():
            self._show_status(f"{run_dir}: no checkpoints/last.pt to resume from", error=True)
            return False
        self._show_status(f"Opening {run_dir.name}…")
        self._tasks.submit(lambda: _read_run(run_dir), lambda result: self._on_resume_read(run_dir, result),
                           lambda exc: self._show_status(error_message(exc), error=True), key="resume")
        return True

    def open_run(self, run_dir: Path) -> None:
        """Show an earlier run's curves, samples and checkpoints (background read); when another
        process trains it, the monitor follows it live."""
        run_dir = Path(run_dir)
        self._followed = run_dir
        self._tasks.submit(lambda: _read_run(run_dir), lambda result: self._show_reopened(run_dir, result),
                           lambda exc: self._show_status(error_message(exc), error=True), key="open")

    def toggle_pause(self) -> None:
        if self._session is None or self._stopping:
            return
        if self._session.control.paused:
            self._session.resume_run()
            self.pause_button.setText("Pause")
            self._show_status("Resuming…")
        else:
            self._session.pause()
            self.pause_button.setText("Resume")
            self._show_status("Pausing after the current step…")

    def stop_run(self) -> None:
        if self._session is None or self._stopping:
            return
        self._stopping = True
        self._session.stop()
        self._show_status("Stopping: saving a checkpoint…")
        self._update_controls()

    def request_close(self) -> bool:
        """For the main window's closeEvent. Asks when a run trains; when the user agrees the run
        is stopped with a checkpoint (blocking until it is written) and True is returned."""
        if self._session is None:
            self.shutdown()
            return True
        if not self._confirm_stop_on_close():
            return False
        self.shutdown()
        return True

    def shutdown(self) -> None:
        """Stop a training run cleanly (the engine writes a checkpoint) and join all threads."""
        self.registry.shutdown()
        session = self._session
        if session is not None:
            self._stopping = True
            session.stop()
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                session.wait(None)  # the checkpoint must be complete before the process exits
            finally:
                QGuiApplication.restoreOverrideCursor()
            # Deliver the events the worker queued (Finished, CheckpointSaved) and the thread's end.
            QCoreApplication.processEvents()
            if self._session is session:
                self._on_session_ended(session)
        self._tasks.wait(10000)
        self.pinned.shutdown()

    # ------------------------------------------------------------------ running
    def _launch(self, cfg: RunConfig, run_dir: Path, *, resume: bool, train_fn: TrainFn | None = None) -> bool:
        self._run_dir = run_dir
        self._followed = None  # this panel trains it now: its own events feed the monitor
        self._stopping = False
        self._last_error = None
        session = TrainingSession(cfg, run_dir, resume=resume, sources=self._test_sources,
                                  train_fn=train_fn or self._train_fn, parent=self)
        session.event_emitted.connect(self._on_session_event)
        session.image_ready.connect(self.monitor.show_image)
        self.monitor.images_from_worker = True
        session.gpu_memory_measured.connect(self.monitor.set_gpu_memory)
        session.failed.connect(self._on_session_failed)
        session.ended.connect(lambda: self._on_session_ended(session))
        labels = self._labels_provider() if self._labels_provider is not None else self._canvas_labels
        if labels is not None:
            session.set_preview_labels(np.asarray(labels, dtype=np.uint8))
        self._session = session
        if not resume:
            self.monitor.reset()
            self.checkpoints.set_checkpoints([], [])
        self._show_run(run_dir)
        self.pause_button.setText("Pause")
        self.form.set_editable(False)
        self._update_controls()
        self.history.set_busy(True)
        self.tabs.setCurrentWidget(self.monitor)
        self.monitor.state_label.setText("Starting…")
        self._show_status(f"{'Resuming' if resume else 'Starting'} {run_dir.name}: loading data and models…")
        session.start()
        self.run_started.emit(str(run_dir))
        return True

    def _on_resume_read(self, run_dir: Path, result: _Reopened) -> None:
        if result.config is None:
            self._show_status(result.config_error or f"{run_dir}: unreadable config.toml", error=True)
            return
        if self._session is not None:
            return
        self._show_reopened(run_dir, result)
        self._launch(_lift_reached_step_limit(result.config, result.history), run_dir, resume=True)

    def _on_session_event(self, event: object) -> None:
        if isinstance(event, AutolabelProgress):  # the panel's own stage before the engine's events
            self._on_autolabel_progress(event)
            return
        self.monitor.handle_event(event)
        if isinstance(event, Started):
            self._show_status(f"Training {Path(event.run_dir).name} on {event.device}")
            self.refresh_history()  # the engine has written config.toml: the run is listed now
        elif isinstance(event, CheckpointSaved):
            self._refresh_checkpoints()
        elif isinstance(event, Paused):
            self.pause_button.setText("Resume")
            self._show_status(f"Paused at step {event.step}")
        elif isinstance(event, Resumed):
            self.pause_button.setText("Pause")
            self._show_status("Training")
        elif isinstance(event, Finished):
            self._show_status(f"Finished ({event.reason}) at step {event.step}")
        elif isinstance(event, Failed):
            self._show_status(f"Run stopped at step {event.step}: {event.message}", error=True)
        elif isinstance(event, Sample):
            self._poll_canvas_labels()
        self.event_emitted.emit(event)

    def _on_autolabel_progress(self, event: AutolabelProgress) -> None:
        text = (f"Labelling the photos with the segmenter: {event.done} of {event.total}" if event.total
                else "Labelling the photos with the segmenter: loading it…")
        self.monitor.state_label.setText(text)
        self.monitor.progress.setRange(0, max(1, event.total))
        self.monitor.progress.setValue(event.done)
        self._show_status(text)

    def _on_session_failed(self, message: str) -> None:
        self._last_error = message
        self.monitor.show_failure(message)
        self._show_status(message, error=True)
        self.failed.emit(message)

    def _on_session_ended(self, session: TrainingSession) -> None:
        if self._session is not session:
            return
        self._session = None
        self._stopping = False
        run_dir = self._run_dir
        self._run_dir = None
        self.form.set_editable(True)
        self.history.set_busy(False)
        self.pause_button.setText("Pause")
        session.deleteLater()
        if run_dir is not None:
            self._refresh_checkpoints(run_dir)
        self._keep_error = True
        try:
            self.form.set_run_name(self._suggest_name())
        finally:
            self._keep_error = False
        self.refresh_history()
        self._update_controls()
        if run_dir is not None:
            self.run_finished.emit(str(run_dir))

    # ------------------------------------------------------------------ run info
    def _show_run(self, run_dir: Path) -> None:
        self._shown_run = run_dir
        self._select_in_run_combo(run_dir)
        self.pinned.set_run(run_dir)
        start, resume, tensorboard = cli_commands(run_dir)
        self.run_folder_label.setText(f"Run folder: {run_dir}")
        self.cli_start.set_command(start)
        self.cli_resume.set_command(resume)
        self.checkpoints.tensorboard.set_command(tensorboard)

    def _show_reopened(self, run_dir: Path, result: _Reopened, *, quiet: bool = False) -> None:
        """`quiet`: a live re-read of a run trained by another process: the tab stays as it is."""
        self._show_run(run_dir)
        totals = None
        summary = self.registry.find(run_dir)
        live = summary is not None and summary.status == "training" and self._run_dir != run_dir
        self.monitor.load_history(result.history, totals, live=live)
        self.monitor.set_sample_image(result.sample, result.sample_step)
        self.checkpoints.set_checkpoints(result.checkpoints, result.history.validations)
        if result.config_error:
            self.monitor.banner.show_message(result.config_error, error=True)
        if result.history.started is None and not result.history.steps:
            # An exported cluster run (or a run killed while loading) has a config and nothing else yet.
            self.monitor.banner.show_message(f"{run_dir.name}: not started yet — no metrics.jsonl; the curves fill "
                                             "in here once the run (e.g. its train.sbatch) trains")
        if result.history.bad_lines:
            self.monitor.banner.show_message(f"{result.history.bad_lines} unreadable line(s) in metrics.jsonl skipped")
        if self._session is None and not quiet:
            self.tabs.setCurrentWidget(self.monitor)
        if self._session is None:
            not_started = result.history.started is None and not result.history.steps
            what = " (training in another process; follows live)" if live else \
                " (not started yet)" if not_started else ""
            self._show_status(f"Showing {run_dir.name}{what}")

    def _refresh_checkpoints(self, run_dir: Path | None = None) -> None:
        folder = run_dir or self._shown_run
        if folder is None:
            return
        self._tasks.submit(lambda: list_checkpoints(folder),
                           lambda found: self.checkpoints.set_checkpoints(found, self.monitor.validations),
                           lambda _exc: None, key="checkpoints")

    def refresh_history(self) -> None:
        """Re-read every run list now (they also follow the files every few seconds)."""
        self._show_places()
        self.registry.refresh()

    def open_run_folder(self, folder: Path | None = None) -> None:
        """*Open run folder…*: search `folder` (asked for when None) for runs from now on; a run
        folder itself is opened in the monitor too."""
        if folder is None:
            start = str(self.registry.places()[-1] if len(self.registry.places()) > 1 else self.runs_dir())
            chosen = QFileDialog.getExistingDirectory(self, "Open run folder", start)
            if not chosen:
                return
            folder = Path(chosen)
        folder = Path(folder)
        self.registry.add_place(folder)
        self._tasks.submit(lambda: (folder / "config.toml").is_file(),
                           lambda is_run: self.open_run(folder) if is_run and self._session is None else None,
                           lambda exc: self._show_status(error_message(exc), error=True), key="open-folder")

    def _show_places(self) -> None:
        self.history.set_places(self.registry.places())

    def _on_registry_runs_changed(self) -> None:
        runs = self.registry.runs()
        if self.registry.listed:  # before the first listing "no runs yet" would not be true
            self.history.set_runs(runs)
        current = self._shown_run
        entries = [(run.name, str(run.path)) for run in runs]
        if entries == self._run_combo_entries:
            return  # only lines changed (steps, status): the picker stays as it is (and open)
        self._run_combo_entries = entries
        self.run_combo.clear()
        for run in runs:
            self.run_combo.addItem(run.name, str(run.path))
            self.run_combo.setItemData(self.run_combo.count() - 1, str(run.path), Qt.ItemDataRole.ToolTipRole)
        if current is not None:
            self._select_in_run_combo(current)

    def _select_in_run_combo(self, run_dir: Path) -> None:
        index = self.run_combo.findData(str(run_dir))
        if index < 0:
            self.run_combo.addItem(run_dir.name, str(run_dir))
            index = self.run_combo.count() - 1
        self.run_combo.setCurrentIndex(index)

    def _on_run_combo_activated(self, index: int) -> None:
        data = self.run_combo.itemData(index)
        if data and self._session is None and Path(data) != self._shown_run:
            self.open_run(Path(data))

    def _on_registry_run_updated(self, path: str) -> None:
        """A run wrote new files. When it is the one shown and this panel is not the one training
        it (a CLI run, or one on another machine writing to a shared folder), re-read it: the
        curves, samples and checkpoints follow it live."""
        run_dir = Path(path)
        if run_dir != self._shown_run or run_dir != self._followed or self._run_dir == run_dir:
            return  # (a run this panel trained keeps its live pictures: the canvas rendering is not on disk)
        self._tasks.submit(lambda: _read_run(run_dir), lambda result: self._on_live_read(run_dir, result),
                           lambda _exc: None, key="live")

    def _on_live_read(self, run_dir: Path, result: _Reopened) -> None:
        if run_dir == self._shown_run == self._followed and self._run_dir != run_dir:
            self._show_reopened(run_dir, result, quiet=True)
            self.run_updated_live.emit(str(run_dir))

    def _on_form_runs_dir_changed(self) -> None:
        self.registry.set_runs_dir(self.form.runs_dir())
        self._show_places()

    def _on_form_dataset_checked(self, path: str, fmt: str) -> None:
        if self._store is not None:
            store = self._store()
            store.setValue("training/last_dataset", path)
            store.setValue("training/last_dataset_format", fmt)

    def _restore_dataset(self) -> None:
        if self._store is None:
            return
        store = self._store()
        path = str(store.value("training/last_dataset", "") or "")
        if path:
            self.form.restore_data_source(path, str(store.value("training/last_dataset_format", "auto") or "auto"))

    # ------------------------------------------------------------------ form and buttons
    def _on_cluster_dialog_exported(self, _folder: str) -> None:
        self._update_controls()
        self.refresh_history()

    def _on_cluster_button_clicked(self) -> None:
        if self.cluster_dialog is None:
            self.cluster_dialog = ClusterDialog(self.form.state, self._tasks, self)
            self.cluster_dialog.exported.connect(self._on_cluster_dialog_exported)
            self.cluster_dialog.open_requested.connect(lambda folder: self.open_run(Path(folder)))
            self.form.changed.connect(self.cluster_dialog.refresh)  # the commands follow the form
        self.cluster_dialog.refresh()
        self.cluster_dialog.show()
        self.cluster_dialog.raise_()

    def _on_form_changed(self) -> None:
        if not self._keep_error:
            self._last_error = None  # the user changed something: show the form's own state again
        self._update_controls()

    def _update_controls(self) -> None:
        running = self._session is not None
        if running:
            self.start_button.setEnabled(False)
            self.pause_button.setEnabled(not self._stopping)
            self.stop_button.setEnabled(not self._stopping)
            return
        state = self.form.state()
        self.start_button.setEnabled(state.valid)
        self.pause_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        if self._last_error is None:
            self._show_status(state.message, error=not state.valid)

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #c0392b; font-weight: bold;" if error else "")

    def _suggest_name(self) -> str:
        base = time.strftime("run-%Y%m%d-%H%M%S")
        name, n = base, 2
        while (self.runs_dir() / name).exists():
            name, n = f"{base}-{n}", n + 1
        return name

    def _confirm_stop_on_close(self) -> bool:
        """Asked when the window closes during a run (tests replace this)."""
        answer = QMessageBox.question(
            self, "Training is running",
            "A training run is in progress. Stop it now? A checkpoint is saved first, and you can "
            "resume the run later from the History tab.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
