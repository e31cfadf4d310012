"""The Model menu: load a checkpoint (Road Studio .safetensors / training .pt, or a reference
pix2pix .pth through a small import dialog) and show the loaded model's card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel,
                               QMenu, QWidget)

from core.weights import class_coverage
from desktop import settings
from desktop.preview.worker import ModelInfo, ModelSource

CHECKPOINT_FILTER = ("Checkpoints (*.safetensors *.pt *.pth);;Road Studio weights (*.safetensors);;"
                     "Training checkpoints (*.pt);;Reference pix2pix generators (*.pth);;All files (*)")


class ImportReferenceDialog(QDialog):
    """Asks what a reference pix2pix `latest_net_G.pth` is: its files do not say."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import reference pix2pix generator")
        self.net = QComboBox(self)
        self.net.addItems(["unet_256", "unet_128"])
        self.norm = QComboBox(self)
        self.norm.addItems(["batch", "instance"])
        form = QFormLayout(self)
        intro = QLabel(f"<b>{path.name}</b> is a generator saved by the reference pix2pix code "
                       "(junyanz/pytorch-CycleGAN-and-pix2pix). Choose how it was trained "
                       "(its --netG and --norm options; the Cityscapes models use unet_256 and batch).", self)
        intro.setWordWrap(True)
        form.addRow(intro)
        form.addRow("Generator (--netG)", self.net)
        form.addRow("Normalisation (--norm)", self.norm)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def source(self, path: Path) -> ModelSource:
        return ModelSource(path=path, reference_netG=self.net.currentText(),
                           reference_norm=self.norm.currentText())


def card_rows(info: ModelInfo) -> list[tuple[str, str]]:
    """The model card as (label, value) rows: architecture from the config, history from the card."""
    cfg = info.config
    card: dict[str, Any] = info.card or {}
    rows = [
        ("File", str(info.path)),
        ("Architecture", f"{getattr(cfg, 'arch', '?')}, depth {getattr(cfg, 'depth', '?')} "
                         f"(inputs padded to multiples of {getattr(cfg, 'size_multiple', '?')})"),
        ("Filters (ngf)", str(getattr(cfg, "ngf", "?"))),
        ("Normalisation", str(getattr(cfg, "norm", "?"))),
        ("Dropout", "yes" if getattr(cfg, "dropout", False) else "no"),
        ("Input encoding", str(getattr(cfg, "input_encoding", "?"))),
        ("Parameters", f"{info.parameters:,}"),
        ("Device", info.device),
    ]
    known = {"data": "Training data", "dataset": "Training data", "step": "Steps", "steps": "Steps",
             "epoch": "Epochs", "run": "Run", "source": "Source", "created": "Created",
             "notes": "Notes", "license": "Licence"}
    shown: set[str] = set()
    for key, label in known.items():
        value = card.get(key)
        if value not in (None, "") and label not in shown:
            rows.append((label, _fmt(value)))
            shown.add(label)
    for key, value in card.items():  # anything else the card carries, so nothing is hidden
        if key == "class_pixel_share" and isinstance(value, dict):
            shares = sorted(value.items(), key=lambda kv: -float(kv[1]))
            value = ", ".join(f"{k} {class_coverage.format_share(float(v))}" for k, v in shares if k != "unlabeled")
        if key not in known and value not in (None, ""):
            rows.append((key.replace("_", " ").capitalize(), _fmt(value)))
    if not any(label == "Training data" for label, _ in rows):
        rows.append(("Training data", "not recorded in this checkpoint"))
    rows.append(("Brushes", class_coverage.summary(card)))
    return rows


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


class ModelCardDialog(QDialog):
    def __init__(self, info: ModelInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model card — {info.name}")
        form = QFormLayout(self)
        for label, value in card_rows(info):
            text = QLabel(value, self)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class ModelMenu(QObject):
    """Builds the Model menu; emits `load_requested` with what to load (the worker loads it)."""

    load_requested = Signal(object)  # ModelSource

    def __init__(self, menu: QMenu, parent_widget: QWidget) -> None:
        super().__init__(menu)
        self._parent = parent_widget
        self.info: ModelInfo | None = None
        self.load_action = QAction("&Load checkpoint…", menu)
        self.load_action.setShortcut("Ctrl+Shift+O")
        self.load_action.triggered.connect(self._on_load_triggered)
        self.import_action = QAction("&Import reference pix2pix generator (.pth)…", menu)
        self.import_action.triggered.connect(self._on_import_triggered)
        self.card_action = QAction("Model &card…", menu)
        self.card_action.setEnabled(False)
        self.card_action.triggered.connect(self._on_card_triggered)
        menu.addAction(self.load_action)
        menu.addAction(self.import_action)
        menu.addSeparator()
        menu.addAction(self.card_action)

    def set_model(self, info: ModelInfo | None) -> None:
        self.info = info
        self.card_action.setEnabled(info is not None)

    def source_for(self, path: Path) -> ModelSource | None:
        """.pth files are reference generators: ask how they were trained (None = cancelled)."""
        if path.suffix.lower() == ".pth":
            dialog = ImportReferenceDialog(path, self._parent)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.source(path)
        return ModelSource(path=path)

    def _ask_path(self, title: str, file_filter: str) -> Path | None:
        store = settings.settings()
        start = str(store.value("model/last_dir", ""))
        name, _ = QFileDialog.getOpenFileName(self._parent, title, start, file_filter)
        if not name:
            return None
        store.setValue("model/last_dir", str(Path(name).parent))
        return Path(name)

    def _on_load_triggered(self) -> None:
        path = self._ask_path("Load checkpoint", CHECKPOINT_FILTER)
        source = self.source_for(path) if path else None
        if source is not None:
            self.load_requested.emit(source)

    def _on_import_triggered(self) -> None:
        path = self._ask_path("Import reference pix2pix generator", "PyTorch state dicts (*.pth *.pt);;All files (*)")
        if path is None:
            return
        dialog = ImportReferenceDialog(path, self._parent)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.load_requested.emit(dialog.source(path))

    def _on_card_triggered(self) -> None:
        if self.info is not None:
            ModelCardDialog(self.info, self._parent).exec()
