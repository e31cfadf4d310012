"""The Pinned tab: a run's pinned paintings, each as a film strip of its renders over the sample
steps (core.train.pins). Pin the painting on the canvas to the run shown; frames arrive live as
PinnedSample events and are read back from pinned/ when a run is reopened (background thread).
A click on a frame enlarges it; Export strip… writes a pin's frames side by side as one PNG with
its provenance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog, QFrame, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem, QPushButton, QScrollArea,
    QStyle, QVBoxLayout, QWidget,
)

from core.render import provenance
from core.io.imageio import read_label_ids, read_rgb
from desktop.qimage import rgb_to_qimage
from desktop.scene.session import write_rendered_png
from desktop.tasks import TaskRunner
from desktop.training.wide_image import ImagePopup

if TYPE_CHECKING:
    from core.train.pins import PinnedSample

LabelsProvider = Callable[[], "np.ndarray | None"]


def _pins():  # noqa: ANN202 - the core.train.pins module
    """core.train.pins imports torch (its renderer); imported on first use so the app's window
    does not wait for torch at start-up (issue 20 §3)."""
    from core.train import pins

    return pins
FRAME_HEIGHT = 256  # frames this tall (issue 20 §2: >= 256 px); a 256×512 street frame is 512 px wide


def _read_strips(run_dir: Path) -> dict[str, list[tuple[int, QImage]]]:
    """Every pin's frames as QImages (QImage is safe to build off the GUI thread)."""
    out: dict[str, list[tuple[int, QImage]]] = {}
    for name, frames in _pins().list_renders(run_dir).items():
        images = []
        for step, path in frames:
            image = QImage(str(path))
            if not image.isNull():
                images.append((step, image))
        out[name] = images
    return out


class FilmStrip(QListWidget):
    """One pin's frames left to right (oldest first), captioned with their step."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(FRAME_HEIGHT * 2, FRAME_HEIGHT))
        # The frame, its "step N" line and a horizontal scroll bar; nothing more, so one whole
        # strip fits the tab on a 1366×768 screen.
        self.setFixedHeight(FRAME_HEIGHT + self.fontMetrics().height() + self.style().pixelMetric(
            QStyle.PixelMetric.PM_ScrollBarExtent) + 14)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.frames: dict[int, QImage] = {}

    def add_frame(self, step: int, image: QImage) -> None:
        if step in self.frames:  # a resumed run renders a replayed step again: replace it
            for i in range(self.count()):
                if self.item(i).data(Qt.ItemDataRole.UserRole) == step:
                    self.takeItem(i)
                    break
        self.frames[step] = image
        scaled = image.scaledToHeight(FRAME_HEIGHT, Qt.TransformationMode.SmoothTransformation)
        item = QListWidgetItem(QIcon(QPixmap.fromImage(scaled)), f"step {step}")
        item.setData(Qt.ItemDataRole.UserRole, step)
        item.setToolTip(f"{self.name} rendered with the weights of step {step} (click to enlarge)")
        row = sum(1 for s in self.frames if s < step)
        self.insertItem(row, item)
        self.scrollToItem(item)

    def steps(self) -> list[int]:
        return sorted(self.frames)


class PinnedView(QWidget):
    pinned = Signal(str)  # path of a label map pinned from the canvas
    strips_loaded = Signal(str)  # run folder whose strips were read back
    exported = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = TaskRunner(self)
        self._run: Path | None = None
        self._labels: LabelsProvider | None = None
        self.strips: dict[str, FilmStrip] = {}
        self.popup: ImagePopup | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        row = QHBoxLayout()
        self.pin_button = QPushButton("Pin the current painting", self)
        self.pin_button.setToolTip("Add the canvas painting to this run's pinned paintings: it is rendered at "
                                   "every sample step (also after a resume)")
        self.pin_button.clicked.connect(self._on_pin_clicked)
        self.export_button = QPushButton("Export strip…", self)
        self.export_button.setToolTip("Save the selected pin's frames side by side as one PNG")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.status = QLabel("No run shown.", self)
        self.status.setWordWrap(True)
        row.addWidget(self.pin_button)
        row.addWidget(self.export_button)
        row.addWidget(self.status, 1)
        layout.addLayout(row)
        self._rows = QWidget(self)
        self._rows_layout = QVBoxLayout(self._rows)
        self._rows_layout.setContentsMargins(2, 2, 2, 2)
        self._rows_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._rows)
        layout.addWidget(scroll, 1)
        self._selected: str | None = None
        self._update_buttons()

    # ------------------------------------------------------------------------------ public API

    def set_labels_provider(self, provider: LabelsProvider | None) -> None:
        self._labels = provider

    def set_run(self, run_dir: Path) -> None:
        """Show `run_dir`'s pins (read in the background)."""
        run_dir = Path(run_dir)
        if run_dir != self._run:
            self._clear()
        self._run = run_dir
        self.status.setText(f"Pinned paintings of {run_dir.name}: reading…")
        self._update_buttons()
        self._tasks.submit(lambda: _read_strips(run_dir), lambda strips: self._on_strips_read(run_dir, strips),
                           lambda exc: self.status.setText(f"{run_dir / 'pinned'}: cannot be read ({exc})"))

    def handle_event(self, event: object) -> None:
        """Slot for the panel's event_emitted: a new frame of a pin."""
        # Checked by name: importing core.train.pins for isinstance would load torch at start-up.
        if type(event).__name__ != "PinnedSample" or self._run is None:
            return
        pin = cast("PinnedSample", event)
        if Path(pin.path).parents[2] == self._run:
            self._strip(pin.name).add_frame(pin.step, rgb_to_qimage(pin.image))
            self._show_count()

    def shutdown(self) -> None:
        self._tasks.wait()

    # ------------------------------------------------------------------------------ internals

    def _clear(self) -> None:
        for strip in self.strips.values():
            box = strip.parentWidget()
            if box is not None:
                box.deleteLater()
        self.strips = {}
        self._selected = None

    def _strip(self, name: str) -> FilmStrip:
        strip = self.strips.get(name)
        if strip is None:
            box = QWidget(self._rows)
            row = QHBoxLayout(box)  # the name beside the strip, not above it: the height is the frames'
            row.setContentsMargins(0, 0, 0, 0)
            # Zero-width spaces after "_" let a long file-like name wrap instead of being clipped.
            caption = QLabel(f"<b>{name.replace('_', '_&#8203;')}</b>", box)
            caption.setToolTip(name)
            caption.setWordWrap(True)
            caption.setFixedWidth(120)
            caption.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            row.addWidget(caption)
            strip = FilmStrip(name, box)
            strip.itemClicked.connect(lambda item, s=strip: self._on_frame_clicked(s, item))
            row.addWidget(strip, 1)
            self._rows_layout.insertWidget(self._rows_layout.count() - 1, box)
            self.strips[name] = strip
            if self._selected is None:
                self._selected = name
            self._update_buttons()
        return strip

    def _on_strips_read(self, run_dir: Path, strips: dict[str, list[tuple[int, QImage]]]) -> None:
        if run_dir != self._run:
            return
        for name, frames in strips.items():
            strip = self._strip(name)
            for step, image in frames:
                if step not in strip.frames:
                    strip.add_frame(step, image)
        self._show_count()
        self.strips_loaded.emit(str(run_dir))

    def _show_count(self) -> None:
        if self._run is None:
            return
        if not self.strips:
            self.status.setText(f"{self._run.name} has no pinned paintings yet: pin the canvas painting, or "
                                f"start a run with `roadstudio-cli train --pin LABEL.png`.")
            return
        frames = sum(len(s.frames) for s in self.strips.values())
        self.status.setText(f"{len(self.strips)} pinned painting(s) of {self._run.name}, {frames} frame(s); "
                            "new frames at every sample step")

    def _update_buttons(self) -> None:
        self.pin_button.setEnabled(self._run is not None)
        self.export_button.setEnabled(bool(self.strips))

    def _on_pin_clicked(self) -> None:
        ids = self._labels() if self._labels is not None else None
        run = self._run
        if ids is None or run is None:
            self.status.setText("Nothing to pin: open a run and paint on the canvas first")
            return
        ids = np.array(ids, dtype=np.uint8, copy=True)
        name = f"painting_{ids.shape[1]}x{ids.shape[0]}"
        self._tasks.submit(lambda: _pins().pin_labels(run, ids, name), self._on_pinned,
                           lambda exc: self.status.setText(str(exc)))

    def _on_pinned(self, path: Path) -> None:
        self._strip(path.stem)
        self.status.setText(f"Pinned {path.name}: rendered from the next sample step on")
        self.pinned.emit(str(path))

    def _on_frame_clicked(self, strip: FilmStrip, item: QListWidgetItem) -> None:
        self._selected = strip.name
        image = strip.frames.get(item.data(Qt.ItemDataRole.UserRole))
        if image is None:
            return
        if self.popup is None:
            self.popup = ImagePopup(self)
        self.popup.setWindowTitle(f"{strip.name}, step {item.data(Qt.ItemDataRole.UserRole)}")
        self.popup.set_image(image)
        self.popup.show()

    def strip_pixels(self, name: str) -> tuple[np.ndarray, provenance.Provenance] | None:
        """A pin's frames side by side (oldest left) at full resolution, and the strip's provenance.
        Reads the frame files (call off the GUI thread)."""
        if self._run is None:
            return None
        frames = _pins().list_renders(self._run).get(name) or []
        images = [read_rgb(path) for _, path in frames]
        images = [im for im in images if im.shape == images[0].shape] if images else []
        if not images:
            return None
        labels = read_label_ids(_pins().pinned_dir(self._run) / f"{name}.png")
        record = provenance.Provenance(kind="pinned_strip", model=None, labels=labels,
                                       layout="frames left to right: steps " + ", ".join(str(s) for s, _ in frames),
                                       extra={"run": self._run.name, "pin": name})
        return np.concatenate(images, axis=1), record

    def _on_export_clicked(self) -> None:
        name = self._selected or next(iter(self.strips), None)
        if name is None or self._run is None:
            return
        target, _ = QFileDialog.getSaveFileName(self, "Export film strip", str(self._run / f"{name}_strip.png"),
                                                "PNG image (*.png)")
        if not target:
            return
        path = Path(target) if Path(target).suffix else Path(target).with_suffix(".png")

        def write() -> Path:
            made = self.strip_pixels(name)
            if made is None:
                raise ValueError(f"{name}: no frames yet")
            return write_rendered_png(path, *made)

        self._tasks.submit(write, self._on_exported, lambda exc: self.status.setText(str(exc)))

    def _on_exported(self, written: Path) -> None:
        self.status.setText(f"Exported {written.name}")
        self.exported.emit(str(written))
