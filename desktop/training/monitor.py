"""The monitor tab: progress, speed, loss curves, validation table, sample grid, the canvas
rendered with the current weights, device/GPU memory, and a warning banner.

Fed with core events (live) or with a RunHistory (a reopened run). Everything here is cheap per
event: numbers go into labels, points into the charts (which repaint on their own timer), and
images are converted once per Sample/CanvasPreview event.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QProgressBar,
    QSlider, QSplitter, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget,
)

from core.train.events import (
    CanvasPreview, CheckpointSaved, Failed, Finished, Paused, Resumed, Sample, Started, Step, Validation,
    Warning_,
)
from desktop.training.charts import LineChart
from desktop.qimage import rgb_to_qimage
from desktop.training.progress import RateMeter, format_bytes, format_duration
from desktop.training.run_files import LOSS_KEYS, RunHistory
from desktop.training.wide_image import ElidedLabel, FitImageView, PictureRow

CURVE_COLORS = {"G_GAN": "#2e86de", "G_L1": "#e67e22", "D_real": "#27ae60", "D_fake": "#c0392b"}
# The realism chart: the renderings' FCN mIoU and, as the ceiling, the real photos' (core.eval.realism).
REALISM_CURVES = {"generated": "#8e44ad", "real photos": "#7f8c8d"}
BEST_COLUMN = 6


class WarningBanner(QWidget):
    """A prominent strip at the top of the monitor; `error` style for a run that stopped."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Hide this message")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setAutoFillBackground(True)
        self.messages: list[str] = []
        self.hide()

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.messages.append(text)
        colour, border = ("#fdecea", "#c0392b") if error else ("#fff4d6", "#d68910")
        self.setStyleSheet(f"WarningBanner {{ background: {colour}; border: 2px solid {border}; }}"
                           f"QLabel {{ color: #1c1c1c; }}")
        shown = self.messages[-3:]  # the newest few; all of them are in metrics.jsonl
        prefix = "⛔ " if error else "⚠ "
        self.label.setText("\n".join(prefix + m for m in shown))
        self.show()

    def clear_messages(self) -> None:
        self.messages.clear()
        self.label.clear()
        self.hide()


class MonitorView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = WarningBanner()
        self._rate = RateMeter()
        self._total_steps = 0
        self._steps_per_epoch = 0
        self._total_epochs = 0
        self.last_step = 0
        self._running = False
        self.validations: list[dict[str, Any]] = []  # as run_files reads them back
        # True while fed by a TrainingSession, whose worker converts pictures off the GUI thread.
        self.images_from_worker = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.banner)
        outer.addLayout(self._build_stats())
        # Numbers left (charts over the validation table), pictures right, side by side at the
        # full height of the tab (issue 20 §2: >= 256 px tall from a 1366×768 screen up).
        numbers = QSplitter(Qt.Orientation.Vertical)
        numbers.setObjectName("monitor_numbers_splitter")
        numbers.addWidget(self._build_charts())
        numbers.addWidget(self._build_validation())
        numbers.setStretchFactor(0, 3)
        numbers.setStretchFactor(1, 1)
        numbers.setChildrenCollapsible(False)
        self.numbers_splitter = numbers
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("monitor_splitter")
        self.splitter.addWidget(numbers)
        self.splitter.addWidget(self._build_images())
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([800, 1200])  # pictures wider: 256 px tall side by side on a 1366 screen
        outer.addWidget(self.splitter, 1)

        # Elapsed/ETA tick once a second even between steps (slow steps, pauses).
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._refresh_times)

    # ------------------------------------------------------------------ building
    def _build_stats(self) -> QGridLayout:
        # One line: every pixel of height goes to the pictures and charts below.
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(20)
        self.progress.setFormat("step %v / %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.state_label = ElidedLabel("No run yet")
        self.state_label.setStyleSheet("font-weight: bold;")
        self.state_label.setMinimumWidth(160)
        self.epoch_label = QLabel("epoch –")
        self.rate_label = QLabel("– it/s")
        self.elapsed_label = QLabel("elapsed –")
        self.eta_label = QLabel("ETA –")
        self.lr_label = QLabel("lr –")
        self.device_label = QLabel("device –")
        self.memory_label = ElidedLabel("")  # pairs, parameters, GPU memory: the rest of the line
        grid.addWidget(self.state_label, 0, 0)
        grid.addWidget(self.progress, 0, 1)
        stats = QHBoxLayout()
        stats.setSpacing(14)
        for label in (self.epoch_label, self.rate_label, self.elapsed_label, self.eta_label, self.lr_label,
                      self.device_label):
            stats.addWidget(label)
        stats.addWidget(self.memory_label, 1)
        grid.addLayout(stats, 0, 2)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 5)
        return grid

    def _build_charts(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        charts = QHBoxLayout()
        self.l1_chart = LineChart("Generator L1 (λ·L1)")
        self.l1_chart.add_curve("G_L1", CURVE_COLORS["G_L1"])
        self.gan_chart = LineChart("Adversarial losses")
        for key in ("G_GAN", "D_real", "D_fake"):
            self.gan_chart.add_curve(key, CURVE_COLORS[key])
        # Shown from the first validation that carries a realism score (real validation photos
        # and the segmenter installed); a run on synthetic data never has one.
        self.realism_chart = LineChart("Realism: FCN mIoU on validation ↑")
        for key, color in REALISM_CURVES.items():
            self.realism_chart.add_curve(key, color)
        self.realism_chart.hide()
        charts.addWidget(self.l1_chart, 1)
        charts.addWidget(self.gan_chart, 1)
        charts.addWidget(self.realism_chart, 1)
        layout.addLayout(charts, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Smoothing"))
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(60)
        self.smoothing_slider.setToolTip("Exponential moving average weight (0 = raw losses)")
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        self.smoothing_value = QLabel("0.60")
        self.log_check = QCheckBox("log scale")
        self.log_check.toggled.connect(self._on_log_toggled)
        row.addWidget(self.smoothing_slider, 1)
        row.addWidget(self.smoothing_value)
        row.addWidget(self.log_check)
        layout.addLayout(row)
        self._on_smoothing_changed(self.smoothing_slider.value())
        return box

    def _build_images(self) -> QWidget:
        # Both pictures whole and side by side, as tall as the tab allows; a click enlarges one.
        # Until a picture arrives its pane assumes the usual shape: a grid of 4 input | output |
        # target rows of square crops (3:4), a 256×512 street canvas (2:1).
        self.pictures = PictureRow()
        sample = "Samples: input | output | target"
        self.sample_caption = ElidedLabel(sample)
        self.sample_view = FitImageView("samples appear every few steps", sample)
        self.pictures.add(self.sample_caption, self.sample_view, 0.75)
        canvas = "Your canvas, rendered by the model in training"
        self.canvas_caption = ElidedLabel(canvas)
        self.canvas_view = FitImageView("paint on the canvas to see it rendered here", canvas)
        self.pictures.add(self.canvas_caption, self.canvas_view, 2.0)
        return self.pictures

    def _build_validation(self) -> QWidget:
        self.validation_table = QTableWidget(0, 7)
        self.validation_table.setHorizontalHeaderLabels(["epoch", "step", "L1 ↓", "PSNR ↑", "SSIM ↑",
                                                         "realism ↑", "best"])
        self.validation_table.verticalHeader().setVisible(False)
        self.validation_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.validation_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.validation_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.validation_table.setMinimumHeight(70)
        return self.validation_table

    # ------------------------------------------------------------------ feeding
    def reset(self) -> None:
        self.banner.clear_messages()
        self.l1_chart.clear()
        self.gan_chart.clear()
        self.realism_chart.clear()
        self.realism_chart.hide()
        self.validation_table.setRowCount(0)
        self.validations = []
        self.sample_view.clear_image()
        self.canvas_view.clear_image()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.last_step = 0
        self.memory_label.clear()
        for label, text in ((self.epoch_label, "epoch –"), (self.rate_label, "– it/s"),
                            (self.elapsed_label, "elapsed –"), (self.eta_label, "ETA –"),
                            (self.lr_label, "lr –"), (self.device_label, "device –")):
            label.setText(text)

    def handle_event(self, event: object) -> None:
        if isinstance(event, Step):
            self._on_step(event)
        elif isinstance(event, Started):
            self._on_started(event)
        elif isinstance(event, (Sample, CanvasPreview)) and not self.images_from_worker:
            self.show_image(event.kind, event.step, rgb_to_qimage(event.image))
        elif isinstance(event, Validation):
            self._add_validation(event.epoch, event.step, event.l1, event.psnr, event.ssim, event.is_best,
                                 event.realism, event.realism_real)
        elif isinstance(event, Warning_):
            self.banner.show_message(f"step {event.step}: {event.message}")
        elif isinstance(event, Paused):
            self._rate.pause()
            self._set_state(f"Paused at step {event.step}")
        elif isinstance(event, Resumed):
            self._rate.resume()
            self._set_state("Training")
        elif isinstance(event, Finished):
            self._end(f"Finished ({event.reason}) at step {event.step}")
        elif isinstance(event, Failed):
            self._end(f"Failed at step {event.step}")
            last = f" The last good checkpoint is {event.last_checkpoint}." if event.last_checkpoint else ""
            self.banner.show_message(f"Run stopped at step {event.step}: {event.message}{last}", error=True)
        elif isinstance(event, CheckpointSaved):
            pass  # the checkpoints tab lists them

    def show_image(self, kind: str, step: int, image: QImage) -> None:
        """A Sample grid or CanvasPreview picture (already a QImage: converted by the worker)."""
        if kind == "sample":
            self.sample_view.set_image(image)
            self.sample_caption.setText(f"Samples at step {step}: input | output | target")
            self.sample_view.set_title(self.sample_caption.text())
        else:
            self.canvas_view.set_image(image)
            self.canvas_caption.setText(f"Your canvas, rendered with the weights of step {step}")
            self.canvas_view.set_title(self.canvas_caption.text())

    def show_failure(self, message: str) -> None:
        """An error that ended the run: a Failed event (already shown) or an error raised before the
        engine started (e.g. a folder that is not a dataset)."""
        if self._running:
            self._end("Stopped by an error")
        elif not self.state_label.text().startswith(("Failed", "Finished")):
            self._set_state("Could not start")
        if not any(message in m for m in self.banner.messages):
            self.banner.show_message(message, error=True)

    def set_gpu_memory(self, n_bytes: int) -> None:
        self.memory_label.setText(f"GPU memory (peak allocated): {format_bytes(n_bytes)}")

    def load_history(self, history: RunHistory, totals: tuple[int, int] | None = None, *,
                     live: bool = False) -> None:
        """Show a reopened run: curves, validation table, newest sample (set separately). `live`:
        another process (roadstudio-cli train) is training it now; the panel re-reads it as it
        writes."""
        self.reset()
        if history.steps:
            steps = np.asarray(history.steps, dtype=np.float64)
            self.l1_chart.extend("G_L1", steps, np.asarray(history.losses["G_L1"]))
            for key in ("G_GAN", "D_real", "D_fake"):
                self.gan_chart.extend(key, steps, np.asarray(history.losses[key]))
            self.last_step = int(history.steps[-1])
        for v in history.validations:
            self._add_validation(v.get("epoch", -1), v.get("step", -1), v.get("l1"), v.get("psnr"),
                                 v.get("ssim"), bool(v.get("is_best")), v.get("realism"), v.get("realism_real"))
        for w in history.warnings[-3:]:
            self.banner.show_message(f"step {w.get('step')}: {w.get('message')}")
        started = history.started or {}
        total = int(started.get("total_steps") or 0)
        if totals is not None and not total:
            total = totals[0]
        self._total_steps = total
        self._steps_per_epoch = int(started.get("steps_per_epoch") or 0)
        self.device_label.setText(f"device {started.get('device', '–')}")
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(self.last_step, max(1, total)))
        end = history.finished
        if end is None and live:
            state = f"Training in another process: step {self.last_step} (follows live)"
        elif end is None:
            state = f"Stopped at step {self.last_step} (resumable)" if history.steps else "Not started"
        elif end.get("kind") == "failed":
            state = f"Failed at step {end.get('step')}"
            self.banner.show_message(f"Run stopped at step {end.get('step')}: {end.get('message')}", error=True)
        else:
            state = f"Finished ({end.get('reason')}) at step {end.get('step')}"
        self._set_state(state)
        if self._steps_per_epoch:
            self.epoch_label.setText(f"epoch {self.last_step // self._steps_per_epoch + 1}")

    def set_sample_image(self, image: QImage | None, step: int | None = None) -> None:
        if image is None:
            self.sample_view.clear_image()
            return
        self.sample_view.set_image(image)
        if step is not None:
            self.sample_caption.setText(f"Samples at step {step}: input | output | target")
            self.sample_view.set_title(self.sample_caption.text())

    # ------------------------------------------------------------------ internals
    def _on_started(self, event: Started) -> None:
        self._total_steps = event.total_steps
        self._steps_per_epoch = event.steps_per_epoch
        self._total_epochs = math.ceil(event.total_steps / max(1, event.steps_per_epoch))
        self.progress.setRange(0, max(1, event.total_steps))
        self.progress.setValue(event.start_step)
        self.last_step = event.start_step
        # Resuming: steps an earlier process logged after its last checkpoint are replayed now.
        self.l1_chart.truncate_after(event.start_step)
        self.gan_chart.truncate_after(event.start_step)
        self.realism_chart.truncate_after(event.start_step)
        self.device_label.setText(f"device {event.device}")
        self._rate.start()
        self._rate.add(event.start_step)
        self._running = True
        self._clock.start()
        what = "Resumed" if event.start_step else "Started"
        self._set_state(f"Training ({what.lower()} at step {event.start_step})" if event.start_step else "Training")
        self.memory_label.setText(
            f"{event.train_pairs} training pairs, {event.val_pairs} validation pairs · "
            f"G {event.generator_params:,} parameters, D {event.discriminator_params:,}")

    def _on_step(self, event: Step) -> None:
        self.last_step = event.step
        self.progress.setValue(min(event.step, self.progress.maximum()))
        self._rate.add(event.step)
        for key in LOSS_KEYS:
            value = event.losses.get(key)
            if value is None:
                continue
            chart = self.l1_chart if key == "G_L1" else self.gan_chart
            chart.append(key, event.step, float(value))
        self.epoch_label.setText(f"epoch {event.epoch + 1}/{self._total_epochs or '?'}")
        self.lr_label.setText(f"lr {event.lr:.2e}")

    def _add_validation(self, epoch: object, step: object, l1: object, psnr: object, ssim: object,
                        is_best: bool, realism: object = None, realism_real: object = None) -> None:
        table = self.validation_table
        if isinstance(realism, (int, float)) and isinstance(step, (int, float)):
            self.realism_chart.show()
            self.realism_chart.append("generated", float(step), float(realism))
            if isinstance(realism_real, (int, float)):
                self.realism_chart.append("real photos", float(step), float(realism_real))
        if is_best:  # only one row carries the mark: the best checkpoint so far
            for r in range(table.rowCount()):
                item = table.item(r, BEST_COLUMN)
                if item is not None:
                    item.setText("")
        row = table.rowCount()
        table.insertRow(row)
        values = [
            str(int(epoch) + 1) if isinstance(epoch, int) and epoch >= 0 else "–",
            str(step),
            _fmt(l1, "{:.4f}"), _fmt(psnr, "{:.2f} dB"), _fmt(ssim, "{:.3f}"), _fmt(realism, "{:.3f}"),
            "★ best" if is_best else "",
        ]
        for col, text in enumerate(values):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            table.setItem(row, col, item)
        table.scrollToBottom()
        self.validations.append({"epoch": epoch, "step": step, "l1": l1, "psnr": psnr, "ssim": ssim,
                                 "realism": realism, "realism_real": realism_real, "is_best": is_best})

    def _end(self, text: str) -> None:
        self._running = False
        self._rate.stop()
        self._clock.stop()
        self._refresh_times()
        self.eta_label.setText("ETA –")
        self._set_state(text)

    def _set_state(self, text: str) -> None:
        self.state_label.setText(text)

    def _refresh_times(self) -> None:
        rate = self._rate.rate
        self.rate_label.setText(f"{rate:.2f} it/s" if rate is not None else "– it/s")
        self.elapsed_label.setText(f"elapsed {format_duration(self._rate.elapsed)}")
        if self._running:
            self.eta_label.setText(f"ETA {format_duration(self._rate.eta(self.last_step, self._total_steps))}")

    def _on_smoothing_changed(self, value: int) -> None:
        weight = value / 100.0
        self.smoothing_value.setText(f"{weight:.2f}")
        self.l1_chart.set_smoothing(weight)
        self.gan_chart.set_smoothing(weight)

    def _on_log_toggled(self, on: bool) -> None:
        self.l1_chart.set_log_y(on)
        self.gan_chart.set_log_y(on)


def _fmt(value: object, pattern: str) -> str:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return pattern.format(value)
    return "–"
