"""The compare panel: pick generators A and B, pick a view, scrub over a run's checkpoints.

    A: [canvas model | run checkpoints | files…] [Open…]   B: [...] [Open…]
    [Side by side] [Swipe] [Difference] [Critic]  overlay opacity ─○─
    Run: [run ▾]  step ├───○────┤ step 400 (5 of 9)  → drives A
    ┌──────────────────────── CompareView ────────────────────────┐

Run folders and their checkpoint lists are read on a background thread; the scrubber only looks
up a list and the render cache, so dragging it never blocks the GUI thread. With a RunRegistry
(set_registry: the main window passes the training panel's), the Run list is the same list the
training panel's History shows, and it follows runs as they appear and write checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QToolButton, QVBoxLayout,
    QWidget,
)

from core.render import provenance
from desktop import settings
from desktop.compare.controller import SIDES, CompareController, Side
from desktop.compare.view import COMPARE_MODES, CompareMode, CompareView
from desktop.preview.worker import ModelSource
from desktop.scene.session import write_rendered_png
from desktop.training.run_files import CheckpointInfo, RunSummary, list_checkpoints, list_runs, run_folder_of
from desktop.tasks import TaskRunner
from desktop.training.run_registry import RunRegistry

CHECKPOINT_FILTER = "Checkpoints (*.safetensors *.pt *.pth);;All files (*)"
MODE_TITLES = {"side": "Side by side", "swipe": "Swipe", "diff": "Difference", "critic": "Critic"}
SourceFor = Callable[[Path], "ModelSource | None"]


class ComparePanel(QWidget):
    mode_changed = Signal(str)
    run_loaded = Signal(str)  # run folder whose checkpoints the scrubber now spans
    scrubbed = Signal(int)  # step now chosen for A
    exported = Signal(str)  # path of a written comparison PNG

    def __init__(self, controller: CompareController, parent: QWidget | None = None, *,
                 source_for: SourceFor | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._source_for = source_for or (lambda path: ModelSource(path=path))
        self._tasks = TaskRunner(self)
        self._runs_dir: Path | None = None
        self._registry: RunRegistry | None = None
        self._run_entries: list[tuple[str, str, bool]] | None = None
        self._follow_a = True  # the scrubber drives A (False: a B checkpoint chose the run)
        self._run: Path | None = None
        self._select: Path | None = None
        self.checkpoints: list[CheckpointInfo] = []  # the scrubber's positions (step files)
        self.view = CompareView(self)
        self.combos: dict[Side, QComboBox] = {}
        self._errors: dict[str, str] = {}  # side -> the last failure, until that side shows an image

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_pickers())
        layout.addLayout(self._build_modes())
        layout.addLayout(self._build_scrubber())
        layout.addWidget(self.view, 1)
        # Which brushes each side's model barely saw in training (core.weights.class_coverage), so a rough
        # bus in B is read as "B never learned buses", not as a rendering fault.
        self.coverage = QLabel("")
        self.coverage.setWordWrap(True)
        self.coverage.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._coverage: dict[str, str] = {}
        layout.addWidget(self.coverage)
        self.status = QLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        controller.shown_changed.connect(self._on_controller_shown_changed)
        self.view.difference_ready.connect(self._show_status)
        controller.failed.connect(self._on_controller_failed)
        controller.busy_changed.connect(self._on_controller_busy_changed)
        self.set_mode("side")

    # ------------------------------------------------------------------------------ building

    def _build_pickers(self) -> QHBoxLayout:
        row = QHBoxLayout()
        for side in SIDES:
            combo = QComboBox(self)
            combo.setPlaceholderText("choose a generator")
            combo.setMinimumContentsLength(22)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setToolTip(f"Generator {side}: the canvas model, a checkpoint of the chosen run, or a file")
            combo.activated.connect(lambda index, s=side: self._on_combo_activated(s, index))
            browse = QPushButton("Open…", self)
            browse.setToolTip(f"Load generator {side} from a .safetensors, training .pt or reference .pth file")
            browse.clicked.connect(lambda _checked=False, s=side: self._on_browse_clicked(s))
            row.addWidget(QLabel(f"<b>{side}</b>", self))
            row.addWidget(combo, 1)
            row.addWidget(browse)
            self.combos[side] = combo
        return row

    def _build_modes(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.mode_buttons: dict[str, QToolButton] = {}
        self._mode_group = QButtonGroup(self)
        for mode in COMPARE_MODES:
            button = QToolButton(self)
            button.setText(MODE_TITLES[mode])
            button.setCheckable(True)
            button.clicked.connect(lambda _checked=False, m=mode: self.set_mode(m))
            self._mode_group.addButton(button)
            self.mode_buttons[mode] = button
            row.addWidget(button)
        self.mode_buttons["critic"].setToolTip("The critic (A's run discriminator): where it sees fakes, its "
                                               "per-patch probability of 'real' over A's image")
        self.opacity_label = QLabel("Overlay opacity", self)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(55)
        self.opacity_slider.setFixedWidth(120)
        self.opacity_slider.valueChanged.connect(lambda v: self.view.set_opacity(v / 100))
        row.addSpacing(12)
        row.addWidget(self.opacity_label)
        row.addWidget(self.opacity_slider)
        row.addStretch(1)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Save what the view shows as a PNG with its provenance (both models, "
                                      "the painting)")
        self.export_button.clicked.connect(self._on_export_clicked)
        row.addWidget(self.export_button)
        return row

    def _build_scrubber(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Run", self))
        self.run_combo = QComboBox(self)
        self.run_combo.setPlaceholderText("choose a run")
        self.run_combo.setMinimumContentsLength(18)
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_combo.activated.connect(self._on_run_combo_activated)
        row.addWidget(self.run_combo)
        self.step_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.step_slider.setRange(0, 0)
        self.step_slider.setEnabled(False)
        self.step_slider.setTracking(True)  # re-render while dragging, not only on release
        self.step_slider.setToolTip("Drag: A shows the painting rendered with that step's weights")
        self.step_slider.valueChanged.connect(self._on_step_slider_changed)
        row.addWidget(self.step_slider, 1)
        self.step_label = QLabel("no run chosen", self)
        self.step_label.setMinimumWidth(150)
        row.addWidget(self.step_label)
        return row

    # ------------------------------------------------------------------------------ public API

    def set_mode(self, mode: CompareMode) -> None:
        self.view.set_mode(mode)
        self.mode_buttons[mode].setChecked(True)
        critic_map = mode == "critic"
        self.opacity_label.setVisible(critic_map)
        self.opacity_slider.setVisible(critic_map)
        self.controller.set_critic_map(critic_map)
        self.mode_changed.emit(mode)

    def mode(self) -> CompareMode:
        return self.view.mode()

    def set_canvas_model(self, source: ModelSource | None) -> None:
        """The generator the canvas preview uses: the first entry of both pickers."""
        for side, combo in self.combos.items():
            if combo.count() and combo.itemData(0, Qt.ItemDataRole.UserRole + 1) == "canvas":
                combo.removeItem(0)
            if source is not None:
                combo.insertItem(0, f"Canvas model: {source.path.name}", source)
                combo.setItemData(0, "canvas", Qt.ItemDataRole.UserRole + 1)
                combo.setItemData(0, str(source.path), Qt.ItemDataRole.ToolTipRole)
            chosen = self.controller.source(side)
            # A side nobody chose shows the placeholder, not whichever entry happens to be first.
            combo.setCurrentIndex(self._find(combo, chosen) if chosen is not None else -1)

    def set_source(self, side: Side, source: ModelSource, label: str | None = None) -> None:
        """Show `source` on `side` (added to its picker when new)."""
        combo = self.combos[side]
        index = self._find(combo, source)
        if index < 0:
            combo.addItem(label or source.path.name, source)
            index = combo.count() - 1
            combo.setItemData(index, str(source.path), Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(index)
        self.view.set_image(side, self.view.image(side), combo.itemText(index).removeprefix("Canvas model: "))
        self._errors.pop(side, None)
        self.controller.set_source(side, source)

    def set_registry(self, registry: RunRegistry) -> None:
        """Show the registry's runs in the Run list (from now on instead of one folder's)."""
        self._registry = registry
        registry.runs_changed.connect(self._on_registry_runs_changed)
        registry.run_updated.connect(self._on_registry_run_updated)
        self._on_registry_runs_changed()

    def set_runs_dir(self, folder: Path) -> None:
        """Fill the run picker from `folder` (background read); with a registry, re-read it."""
        self._runs_dir = Path(folder)
        if self._registry is not None:
            self._registry.refresh()
            return
        self._tasks.submit(lambda: list_runs(Path(folder)), self._on_runs_listed, lambda exc: None)

    def open_checkpoint(self, side: Side, path: Path) -> None:
        """Show checkpoint `path` on `side`; one inside a run selects that run (remembered in the
        registry) and its step in the scrubber. A's step follows the scrubber; for B the run is
        selected without moving A."""
        source = self._source_for(Path(path))
        if source is None:
            return
        self.set_source(side, source)

        def in_run(run: Path | None) -> None:
            if run is not None:
                self.set_run(run, select=Path(path), follow_a=side == "A")

        if self._registry is not None:
            self._registry.remember(Path(path), in_run)
        else:
            self._tasks.submit(lambda: run_folder_of(Path(path)), in_run, lambda exc: None)

    def set_run(self, run_dir: Path, *, step_index: int | None = None, select: Path | None = None,
                follow_a: bool = True) -> None:
        """Let the scrubber span `run_dir`'s step checkpoints (background read); A follows it,
        starting at `step_index`, at the checkpoint file `select`, or at the newest. With
        `follow_a` False the scrubber only points at `select` (B's checkpoint) until it is moved."""
        run_dir = Path(run_dir)
        self._select = select
        self._follow_a = follow_a
        self._run = run_dir
        if self.run_combo.findData(str(run_dir)) < 0:
            self.run_combo.addItem(run_dir.name, str(run_dir))
        self.run_combo.setCurrentIndex(self.run_combo.findData(str(run_dir)))
        self.step_label.setText("reading checkpoints…")
        self._tasks.submit(lambda: list_checkpoints(run_dir),
                           lambda found: self._on_checkpoints_listed(run_dir, found, step_index),
                           lambda exc: self.step_label.setText(f"{run_dir.name}: cannot be read ({exc})"))

    @property
    def run_dir(self) -> Path | None:
        """The run the scrubber spans."""
        return self._run

    def scrub_to(self, index: int) -> None:
        self.step_slider.setValue(index)

    def export_image(self) -> tuple[np.ndarray, provenance.Provenance] | None:
        """The picture of the current view (A | B for side and swipe, the heat map for diff, A under
        its critic map) and its provenance; None before A is rendered."""
        a, b = self.controller.shown("A"), self.controller.shown("B")
        if a is None:
            return None
        mode = self.view.mode()
        pixels = self.view.export_pixels()
        if pixels is None:
            return None
        layout = {"side": "A | B", "swipe": "A | B", "diff": "|A - B| heat map",
                  "critic": "A under its discriminator's P(real)"}[mode]
        if mode in ("side", "swipe") and b is None:
            layout = "A"
        record = provenance.Provenance(kind="compare", model=a.stamp, labels=a.ids, variation=self.controller.variation,
                                       compare=b.stamp if b is not None and mode != "critic" else None,
                                       layout=layout)
        return pixels, record

    def _on_export_clicked(self) -> None:
        made = self.export_image()
        if made is None:
            self.status.setText("Nothing to export yet: choose model A")
            return
        store = settings.settings()
        start = str(Path(str(store.value("files/last_dir", ""))) / f"compare_{self.view.mode()}.png")
        name, _ = QFileDialog.getSaveFileName(self, "Export comparison", start, "PNG image (*.png)")
        if not name:
            return
        path = Path(name) if Path(name).suffix else Path(name).with_suffix(".png")
        pixels, record = made
        self._tasks.submit(lambda: write_rendered_png(path, pixels, record),
                           lambda written: self._on_exported(written),
                           lambda exc: self.status.setText(str(exc)))

    def _on_exported(self, path: Path) -> None:
        self.status.setText(f"Exported {path.name}")
        self.exported.emit(str(path))

    def shutdown(self) -> None:
        self._tasks.wait()

    # ------------------------------------------------------------------------------- slots

    def _on_combo_activated(self, side: Side, index: int) -> None:
        source = self.combos[side].itemData(index)
        if isinstance(source, ModelSource):
            self.set_source(side, source)

    def _on_browse_clicked(self, side: Side) -> None:
        store = settings.settings()
        name, _ = QFileDialog.getOpenFileName(self, f"Generator {side}", str(store.value("model/last_dir", "")),
                                              CHECKPOINT_FILTER)
        if not name:
            return
        store.setValue("model/last_dir", str(Path(name).parent))
        self.open_checkpoint(side, Path(name))

    def _on_registry_runs_changed(self) -> None:
        if self._registry is not None:
            self._on_runs_listed(self._registry.runs())

    def _on_registry_run_updated(self, path: str) -> None:
        """The run the scrubber spans wrote files (a new checkpoint): list its steps again,
        staying on the chosen step unless it was the newest."""
        if self._run is None or Path(path) != self._run:
            return
        at_end = self.step_slider.value() == self.step_slider.maximum()
        self.set_run(self._run, step_index=None if at_end else self.step_slider.value(), follow_a=self._follow_a)

    def _on_runs_listed(self, runs: list[RunSummary]) -> None:
        entries = [(run.name, str(run.path), run.status == "training") for run in runs]
        if entries == self._run_entries:
            return  # nothing the picker shows changed: leave it (and an open popup) alone
        self._run_entries = entries
        current = self.run_combo.currentData()
        self.run_combo.clear()
        for run in runs:
            self.run_combo.addItem(run.name + (" · training" if run.status == "training" else ""), str(run.path))
            self.run_combo.setItemData(self.run_combo.count() - 1, str(run.path), Qt.ItemDataRole.ToolTipRole)
        if self._run is not None and self.run_combo.findData(str(self._run)) < 0:
            self.run_combo.addItem(self._run.name, str(self._run))
        index = self.run_combo.findData(current)
        self.run_combo.setCurrentIndex(index)  # -1 (the placeholder) when no run was chosen

    def _on_run_combo_activated(self, index: int) -> None:
        data = self.run_combo.itemData(index)
        if data:
            self.set_run(Path(data))

    def _on_checkpoints_listed(self, run_dir: Path, found: list[CheckpointInfo], step_index: int | None) -> None:
        if run_dir != self._run:
            return  # another run was chosen meanwhile
        steps = [c for c in found if c.label.startswith("step")]
        if not steps:
            steps = [c for c in found if c.label == "last"]
        self.checkpoints = steps
        for side in SIDES:  # the run's checkpoints become choices for A and B too
            for info in found:
                source = ModelSource(path=info.weights_path)
                if self._find(self.combos[side], source) < 0:
                    self.combos[side].addItem(f"{run_dir.name} · {info.label}", source)
        self.step_slider.blockSignals(True)
        self.step_slider.setRange(0, max(0, len(steps) - 1))
        self.step_slider.setEnabled(len(steps) > 1)
        self.step_slider.blockSignals(False)
        self.run_loaded.emit(str(run_dir))
        if not steps:
            self.step_label.setText(f"{run_dir.name}: no checkpoints yet")
            return
        index = len(steps) - 1 if step_index is None else max(0, min(step_index, len(steps) - 1))
        chosen = [i for i, c in enumerate(steps) if self._select is not None and c.weights_path == self._select]
        if chosen:
            index = chosen[0]
        if not self._follow_a:  # B's checkpoint chose the run: point at it, leave A as it is
            self.step_slider.blockSignals(True)
            self.step_slider.setValue(index)
            self.step_slider.blockSignals(False)
            self.step_label.setText(f"B: step {steps[index].step} ({index + 1} of {len(steps)})")
            return
        if self.step_slider.value() == index:
            self._on_step_slider_changed(index)
        else:
            self.step_slider.setValue(index)

    def _on_step_slider_changed(self, index: int) -> None:
        if not 0 <= index < len(self.checkpoints):
            return
        self._follow_a = True  # moved by the user: A follows the scrubber again
        info = self.checkpoints[index]
        self.step_label.setText(f"step {info.step} ({index + 1} of {len(self.checkpoints)})")
        run = self._run.name if self._run else ""
        self.set_source("A", ModelSource(path=info.weights_path), f"{run} · {info.label}")
        self.scrubbed.emit(info.step)

    def _show_coverage(self, side: str, text: str) -> None:
        if text:
            self._coverage[side] = text
        self.coverage.setText("<br>".join(f"<b>{s}</b>: {self._coverage[s]}" for s in SIDES if s in self._coverage))

    def _on_controller_shown_changed(self, side: str) -> None:
        if side not in SIDES:
            return  # (the controller emits "A" or "B" only)
        shown = self.controller.shown(side)
        if shown is None:
            self.view.set_image(side, None)
            return
        self._errors.pop(side, None)
        combo = self.combos[side]
        title = combo.currentText().removeprefix("Canvas model: ")
        self.view.set_image(side, shown.image, title)
        self._show_coverage(side, shown.coverage)
        if side == "A":
            critic_map = shown.critic_map
            self.view.set_critic_map(getattr(critic_map, "probability", None), getattr(critic_map, "mean", None),
                                     shown.critic_note)
        self._show_status()

    def _on_controller_failed(self, side: str, message: str) -> None:
        self._errors[side] = message
        self.view.set_image(side, None)  # no stale picture under a name it does not belong to
        self.view.set_placeholder(side, message)
        self._show_status()

    def _on_controller_busy_changed(self, side: str, busy: bool) -> None:
        self._show_status()

    def _show_status(self) -> None:
        parts = []
        for side in SIDES:
            shown = self.controller.shown(side)
            if side in self._errors:
                parts.append(f"{side}: {self._errors[side]}")
            elif self.controller.busy(side):
                parts.append(f"{side}: rendering…")
            elif shown is None:
                continue
            elif shown.cached:
                parts.append(f"{side}: from cache")
            elif shown.latency_s is not None:
                parts.append(f"{side}: {shown.latency_s * 1000:.0f} ms")
        diff = self.view.difference() if self.view.mode() == "diff" else None
        if diff is not None:
            parts.append(f"largest |A − B| {diff[0]}, mean {diff[1]:.1f}")
        self.status.setText(" · ".join(parts))

    @staticmethod
    def _find(combo: QComboBox, source: ModelSource) -> int:
        for i in range(combo.count()):
            if combo.itemData(i) == source:
                return i
        return -1
