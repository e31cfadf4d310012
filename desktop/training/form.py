"""The set-up form: data source, preset, model/training settings, run name and folder.

The form builds a core RunConfig; the config's own validation (core.errors.ConfigError) is the
single source of truth for what is allowed, so the form shows exactly the engine's reason. The
dataset check (file I/O) runs in a background task and its report and preview grid are shown
here; Start stays disabled until the check found usable pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
    QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QRadioButton, QScrollArea,
    QSpinBox, QVBoxLayout, QWidget,
)

from core.config import DataFormat, RunConfig
from core.errors import ConfigError
from desktop.training.dataset_probe import ProbeResult, probe_dataset
from desktop.qimage import rgb_to_qimage
from desktop.training.images import ImageView
from desktop.training.presets import CUSTOM, PATCH_SIZES, PRESETS, QUICK_LOOK, patch_size_for_layers
from desktop.tasks import TaskRunner, error_message

_VALID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\- ]{0,79}$")


@dataclass(frozen=True)
class FormState:
    """What the panel needs to know before enabling Start."""

    config: RunConfig | None
    run_dir: Path | None
    message: str  # why Start is disabled, or a short summary when valid

    @property
    def valid(self) -> bool:
        return self.config is not None


def _spin(lo: int, hi: int, value: int, step: int = 1, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setValue(value)
    if suffix:
        box.setSuffix(suffix)
    return box


def _dspin(lo: float, hi: float, value: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    return box


def _combo(items: list[tuple[str, Any]]) -> QComboBox:
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    return box


def _select(box: QComboBox, data: Any) -> None:
    index = box.findData(data)
    if index >= 0:
        box.setCurrentIndex(index)


class SetupForm(QScrollArea):
    changed = Signal()  # any field or the dataset check changed: re-read `state()`
    runs_dir_changed = Signal()  # the user edited or browsed to another runs folder
    dataset_checked = Signal(str, str)  # a dataset folder passed the check: (path, format)

    def __init__(self, runs_dir: Path, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._probe: ProbeResult | None = None
        self._probe_pending = False
        self._probe_error: str | None = None
        self._applying = False  # True while a preset fills the fields (do not switch to Custom)
        self._base = RunConfig()
        self._deferred: str | None = None  # "synthetic" / "folder": a check waiting for showEvent
        self.setWidgetResizable(True)
        body = QWidget()
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.addWidget(self._build_data_group())
        layout.addWidget(self._build_preset_row())
        layout.addWidget(self._build_model_group())
        layout.addWidget(self._build_training_group())
        layout.addWidget(self._build_run_group(runs_dir))
        layout.addStretch(1)
        self._connect_changes()
        self.apply_preset(QUICK_LOOK)
        self._on_source_toggled()

    # ------------------------------------------------------------------ building
    def _build_data_group(self) -> QGroupBox:
        group = QGroupBox("Data")
        # Fields left, the preview right: the preview is in view at the top of the tab, not
        # below the fold of a short dock (issue 20 §2).
        columns = QHBoxLayout(group)
        fields = QWidget()
        form = QFormLayout(fields)
        form.setContentsMargins(0, 0, 0, 0)
        columns.addWidget(fields, 3)
        self.synthetic_radio = QRadioButton("Built-in synthetic streets")
        self.folder_radio = QRadioButton("Dataset folder")
        self.synthetic_radio.setChecked(True)
        self._source_group = QButtonGroup(self)
        self._source_group.addButton(self.synthetic_radio)
        self._source_group.addButton(self.folder_radio)
        radios = QHBoxLayout()
        radios.addWidget(self.synthetic_radio)
        radios.addWidget(self.folder_radio)
        radios.addStretch(1)
        form.addRow("Source", radios)
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("a pix2pix aligned, Cityscapes, CamVid or A/ B/ folder")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.browse_button)
        form.addRow("Folder", row)
        self.format_combo = _combo([("Detect", "auto"), ("pix2pix aligned (A|B)", "aligned"),
                                    ("Cityscapes", "cityscapes"), ("Paired folders A/ B/", "folders"),
                                    ("CamVid", "camvid")])
        self.direction_combo = _combo([("B → A (label on the right, Cityscapes pix2pix)", "BtoA"),
                                       ("A → B (label on the left)", "AtoB")])
        form.addRow("Format", self.format_combo)
        form.addRow("Direction", self.direction_combo)
        self.synthetic_count = _spin(8, 1_000_000, 400, 100, " pairs")
        self.synthetic_count.setToolTip("Synthetic pairs per epoch (generated on the fly from the seed)")
        form.addRow("Synthetic size", self.synthetic_count)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        form.addRow("Check", self.check_label)
        self.check_progress = QProgressBar()
        self.check_progress.setFormat("checking pair %v of %m")
        self.check_progress.hide()
        form.addRow(self.check_progress)
        self.report_view = QPlainTextEdit()
        self.report_view.setReadOnly(True)
        self.report_view.setMaximumHeight(120)
        self.report_view.setPlaceholderText("The dataset check report appears here.")
        form.addRow(self.report_view)
        self.preview_view = ImageView("preview of a few pairs (label | photo)")
        self.preview_view.setMinimumSize(200, 256)  # at least 256 px tall (issue 20 §2)
        self.preview_view.setMaximumHeight(384)
        self.preview_view.setToolTip("A few pairs of the data: label colours | photo")
        columns.addWidget(self.preview_view, 2, Qt.AlignmentFlag.AlignTop)
        return group

    def _build_preset_row(self) -> QWidget:
        box = QGroupBox("Preset")
        row = QHBoxLayout(box)
        self.preset_combo = QComboBox()
        for name in (*PRESETS, CUSTOM):
            self.preset_combo.addItem(name, name)
        row.addWidget(self.preset_combo, 1)
        return box

    def _build_model_group(self) -> QGroupBox:
        group = QGroupBox("Model")
        form = QFormLayout(group)
        self.depth_spin = _spin(2, 10, 8)
        self.depth_spin.setToolTip("Down-samplings of the U-Net (8 = unet_256, 7 = unet_128); "
                                   "crop sizes must be multiples of 2^depth")
        self.ngf_spin = _spin(1, 512, 64)
        self.norm_combo = _combo([("BatchNorm", "batch"), ("InstanceNorm", "instance"), ("None", "none")])
        self.dropout_check = QCheckBox("Dropout 0.5 in the innermost up blocks")
        self.encoding_combo = _combo([("One-hot classes", "onehot"), ("Label colours (reference models)", "color")])
        self.upsample_combo = _combo([("Transposed conv (paper)", "transpose"), ("Resize + conv (no grid)", "resize")])
        self.upsample_combo.setToolTip("How the decoder doubles the resolution: the paper's 4×4 stride-2 transposed "
                                       "convolution, or a ×2 resize and a 3×3 convolution, which draws no "
                                       "checkerboard grid")
        self.patch_combo = _combo([(f"{s}×{s}" + (" (pixel)" if s == 1 else ""), s) for s in PATCH_SIZES])
        self.ndf_spin = _spin(1, 512, 64)
        self.d_scales_spin = _spin(1, 4, 1)
        self.d_scales_spin.setToolTip("pix2pixHD's multi-scale discriminator: N PatchGANs on the image at ×1, ×½, ×¼ "
                                      "(1 = the paper's single PatchGAN)")
        form.addRow("Generator depth", self.depth_spin)
        form.addRow("Generator filters (ngf)", self.ngf_spin)
        form.addRow("Normalisation", self.norm_combo)
        form.addRow("", self.dropout_check)
        form.addRow("Input encoding", self.encoding_combo)
        form.addRow("Decoder upsampling", self.upsample_combo)
        form.addRow("Discriminator patch", self.patch_combo)
        form.addRow("Discriminator filters (ndf)", self.ndf_spin)
        form.addRow("Discriminator scales", self.d_scales_spin)
        self.modulation_combo = _combo([("Input only (paper)", "none"), ("Class-adaptive (CLADE)", "clade")])
        self.modulation_combo.setToolTip("How the label map steers the decoder: only through the input (the paper), "
                                         "or also by per-class scale/shift tables at every decoder level (CLADE; "
                                         "needs the one-hot input encoding)")
        form.addRow("Label modulation", self.modulation_combo)
        return group

    def _build_training_group(self) -> QGroupBox:
        group = QGroupBox("Training")
        form = QFormLayout(group)
        self.gan_combo = _combo([("Vanilla (BCE)", "vanilla"), ("LSGAN", "lsgan")])
        self.lambda_spin = _dspin(0.0, 10000.0, 100.0, 1, 10.0)
        self.lambda_feat_spin = _dspin(0.0, 1000.0, 0.0, 1, 1.0)
        self.lambda_feat_spin.setToolTip("Discriminator feature-matching loss (pix2pixHD uses 10; 0 = off, the paper)")
        self.lr_spin = _dspin(0.000001, 1.0, 0.0002, 6, 0.0001)
        self.epochs_spin = _spin(0, 100000, 100)
        self.decay_spin = _spin(0, 100000, 100)
        self.batch_spin = _spin(1, 4096, 1)
        self.load_h, self.load_w = _spin(1, 8192, 286), _spin(1, 8192, 286)
        self.crop_h, self.crop_w = _spin(1, 8192, 256), _spin(1, 8192, 256)
        self.seed_spin = _spin(0, 2**31 - 1, 0)
        self.val_spin = _dspin(0.0, 0.9, 0.1, 2, 0.05)
        self.painted_spin = _dspin(0.0, 1.0, 0.0, 2, 0.05)
        self.painted_spin.setToolTip("Share of training label maps replaced by painting-like simplified ones "
                                     "(flat shapes, boxy objects, no specks; the photo unchanged), so the model "
                                     "learns to render what people paint")
        self.rare_spin = _dspin(0.0, 1.0, 0.0, 2, 0.05)
        self.rare_spin.setToolTip("Rare-class sampling: frames holding a class seen in a share f below this of "
                                  "the frames are drawn sqrt(T/f) times an epoch, and their crops placed around "
                                  "it (0 = off)")
        self.init_combo = _combo([("Random weights (from scratch)", ""), ("Bundled default model", "default")])
        self.init_combo.setToolTip("Fine-tuning: start the generator (and the discriminator saved beside it) from "
                                   "trained weights instead of random ones. The architecture must match (a plain "
                                   "model may start a class-adaptive one); a few thousand steps on your own data "
                                   "then go further than a run from scratch")
        self.init_browse = QPushButton("Weights…")
        self.init_browse.clicked.connect(self._on_init_browse_clicked)
        self.sample_spin = _spin(1, 10_000_000, 100, 10, " steps")
        self.checkpoint_spin = _spin(1, 10_000_000, 500, 50, " steps")
        self.device_combo = _combo([("Automatic", "auto"), ("CUDA", "cuda"), ("Apple MPS", "mps"), ("CPU", "cpu")])
        self.bf16_check = QCheckBox("bf16 mixed precision (CUDA only)")
        form.addRow("GAN loss", self.gan_combo)
        form.addRow("λ L1", self.lambda_spin)
        form.addRow("λ feature matching", self.lambda_feat_spin)
        form.addRow("Learning rate", self.lr_spin)
        epochs = QHBoxLayout()
        epochs.addWidget(self.epochs_spin)
        epochs.addWidget(QLabel("+ decay"))
        epochs.addWidget(self.decay_spin)
        form.addRow("Epochs", epochs)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Load size (h × w)", self._pair(self.load_h, self.load_w))
        form.addRow("Crop size (h × w)", self._pair(self.crop_h, self.crop_w))
        form.addRow("Seed", self.seed_spin)
        form.addRow("Validation share", self.val_spin)
        form.addRow("Painting-like labels", self.painted_spin)
        form.addRow("Rare-class threshold", self.rare_spin)
        start = QHBoxLayout()
        start.addWidget(self.init_combo, 1)
        start.addWidget(self.init_browse)
        form.addRow("Start from", start)
        form.addRow("Sample every", self.sample_spin)
        form.addRow("Checkpoint every", self.checkpoint_spin)
        form.addRow("Device", self.device_combo)
        form.addRow("", self.bf16_check)
        return group

    def _build_run_group(self, runs_dir: Path) -> QGroupBox:
        group = QGroupBox("Run")
        form = QFormLayout(group)
        self.name_edit = QLineEdit()
        self.runs_edit = QLineEdit(str(runs_dir))
        self.runs_browse = QPushButton("Browse…")
        self.runs_browse.clicked.connect(self._on_runs_browse_clicked)
        self.runs_edit.editingFinished.connect(self.runs_dir_changed)
        row = QHBoxLayout()
        row.addWidget(self.runs_edit, 1)
        row.addWidget(self.runs_browse)
        form.addRow("Run name", self.name_edit)
        form.addRow("Runs folder", row)
        return group

    @staticmethod
    def _pair(a: QSpinBox, b: QSpinBox) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(a)
        row.addWidget(QLabel("×"))
        row.addWidget(b)
        return w

    def _setting_widgets(self) -> list[QWidget]:
        return [self.depth_spin, self.ngf_spin, self.norm_combo, self.dropout_check, self.encoding_combo,
                self.patch_combo, self.ndf_spin, self.gan_combo, self.lambda_spin, self.lr_spin,
                self.upsample_combo, self.d_scales_spin, self.lambda_feat_spin,
                self.epochs_spin, self.decay_spin, self.batch_spin, self.load_h, self.load_w, self.crop_h,
                self.crop_w, self.seed_spin, self.val_spin, self.sample_spin, self.checkpoint_spin,
                self.device_combo, self.bf16_check, self.synthetic_count, self.direction_combo,
                self.modulation_combo, self.painted_spin, self.rare_spin, self.init_combo]

    def _connect_changes(self) -> None:
        for widget in self._setting_widgets():
            if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                widget.valueChanged.connect(self._on_setting_changed)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self._on_setting_changed)
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._on_setting_changed)
            else:
                raise TypeError(f"{type(widget).__name__}: no change signal for a setting widget")
        self.preset_combo.currentIndexChanged.connect(self._on_preset_changed)
        self.synthetic_radio.toggled.connect(self._on_source_toggled)
        self.folder_edit.editingFinished.connect(self._on_folder_edited)
        self.format_combo.currentIndexChanged.connect(self._on_folder_edited)
        self.direction_combo.currentIndexChanged.connect(self._on_folder_edited)
        self.device_combo.currentIndexChanged.connect(self._on_device_changed)
        self.name_edit.textChanged.connect(self.changed)
        self.runs_edit.textChanged.connect(self.changed)

    # ------------------------------------------------------------------ presets and configs
    def apply_preset(self, name: str) -> None:
        factory = PRESETS.get(name)
        if factory is not None:
            self.apply_config(factory(self._data_path()))
        with QSignalBlocker(self.preset_combo):
            _select(self.preset_combo, name)
        self.changed.emit()

    def apply_config(self, cfg: RunConfig) -> None:
        """Fill every field from `cfg` (a preset, or a reopened run's settings)."""
        self._applying = True
        try:
            g, d, data, t = cfg.generator, cfg.discriminator, cfg.data, cfg.train
            self.depth_spin.setValue(g.depth)
            self.ngf_spin.setValue(g.ngf)
            _select(self.norm_combo, g.norm)
            self.dropout_check.setChecked(g.dropout)
            _select(self.encoding_combo, g.input_encoding)
            _select(self.upsample_combo, g.upsample)
            _select(self.modulation_combo, g.modulation)
            self.painted_spin.setValue(data.painted_share)
            self.rare_spin.setValue(data.rare_threshold)
            self._select_init(t.init_from)
            self.d_scales_spin.setValue(d.scales)
            self.lambda_feat_spin.setValue(t.lambda_feat)
            patch = patch_size_for_layers(d.n_layers)
            if patch is not None:
                _select(self.patch_combo, patch)
            self.ndf_spin.setValue(d.ndf)
            _select(self.gan_combo, t.gan_mode)
            self.lambda_spin.setValue(t.lambda_l1)
            self.lr_spin.setValue(t.lr)
            self.epochs_spin.setValue(t.epochs)
            self.decay_spin.setValue(t.epochs_decay)
            self.batch_spin.setValue(t.batch_size)
            self.load_h.setValue(data.load_size[0])
            self.load_w.setValue(data.load_size[1])
            self.crop_h.setValue(data.crop_size[0])
            self.crop_w.setValue(data.crop_size[1])
            self.seed_spin.setValue(t.seed)
            self.val_spin.setValue(data.val_fraction)
            self.sample_spin.setValue(t.sample_every)
            self.checkpoint_spin.setValue(t.checkpoint_every)
            _select(self.device_combo, t.device)
            self.bf16_check.setChecked(t.bf16)
            self.synthetic_count.setValue(data.synthetic_count)
            _select(self.direction_combo, data.direction)
            # Settings without a field (betas, arch, flips, workers, max_steps, ...) come from here.
            self._base = cfg
        finally:
            self._applying = False
        self._on_device_changed()

    def set_data_source(self, path: str) -> None:
        """"synthetic" or a folder; a folder starts the dataset check."""
        if path == "synthetic":
            self.synthetic_radio.setChecked(True)
        else:
            self.folder_edit.setText(path)
            self.folder_radio.setChecked(True)
            self._start_probe()

    def set_run_name(self, name: str) -> None:
        self.name_edit.setText(name)

    def runs_dir(self) -> Path:
        return Path(self.runs_edit.text().strip() or ".").expanduser()

    def _data_path(self) -> str:
        if self.synthetic_radio.isChecked():
            return "synthetic"
        return self.folder_edit.text().strip()

    def build_config(self) -> RunConfig:
        """The RunConfig the fields describe; raises ConfigError with the engine's reason."""
        name = self.name_edit.text().strip()
        if not name:
            raise ConfigError("run name is empty")
        if not _VALID_NAME.match(name):
            raise ConfigError(f"run name {name!r} may use letters, digits, spaces, '.', '_' and '-' only")
        path = self._data_path()
        if not path:
            raise ConfigError("choose a dataset folder (or the built-in synthetic streets)")
        base = self._base
        generator = replace(base.generator, depth=self.depth_spin.value(), ngf=self.ngf_spin.value(),
                            norm=self.norm_combo.currentData(), dropout=self.dropout_check.isChecked(),
                            input_encoding=self.encoding_combo.currentData(),
                            upsample=self.upsample_combo.currentData(),
                            modulation=self.modulation_combo.currentData())
        discriminator = replace(base.discriminator, ndf=self.ndf_spin.value(), scales=self.d_scales_spin.value(),
                                n_layers=PATCH_SIZES[self.patch_combo.currentData()],
                                norm=self.norm_combo.currentData())
        data_format: DataFormat = "synthetic" if path == "synthetic" else self.format_combo.currentData()
        data = replace(base.data, path=path, format=data_format, direction=self.direction_combo.currentData(),
                       load_size=(self.load_h.value(), self.load_w.value()),
                       crop_size=(self.crop_h.value(), self.crop_w.value()),
                       val_fraction=round(self.val_spin.value(), 4),
                       synthetic_count=self.synthetic_count.value(),
                       painted_share=round(self.painted_spin.value(), 4),
                       rare_threshold=round(self.rare_spin.value(), 4))
        device = self.device_combo.currentData()
        bf16 = self.bf16_check.isChecked()
        if bf16 and device != "cuda":
            raise ConfigError("bf16 needs the CUDA device")
        train = replace(base.train, gan_mode=self.gan_combo.currentData(), lambda_l1=self.lambda_spin.value(),
                        lambda_feat=round(self.lambda_feat_spin.value(), 4),
                        lr=self.lr_spin.value(), batch_size=self.batch_spin.value(),
                        epochs=self.epochs_spin.value(), epochs_decay=self.decay_spin.value(),
                        seed=self.seed_spin.value(), device=device, bf16=bf16,
                        checkpoint_every=self.checkpoint_spin.value(), sample_every=self.sample_spin.value(),
                        init_from=self.init_combo.currentData())
        return replace(base, name=name, generator=generator, discriminator=discriminator, data=data, train=train)

    def state(self) -> FormState:
        try:
            cfg = self.build_config()
        except ConfigError as exc:
            return FormState(None, None, str(exc))
        run_dir = self.runs_dir() / cfg.name
        if (run_dir / "config.toml").exists():
            return FormState(None, None, f"a run named “{cfg.name}” already exists in {self.runs_dir()}: "
                                         "choose another name, or resume it from History")
        if cfg.data.path != "synthetic":
            if self._probe_pending:
                return FormState(None, None, "checking the dataset…")
            if self._probe_error is not None:
                return FormState(None, None, self._probe_error)
            if self._probe is None or not self._probe.ok:
                return FormState(None, None, "the dataset check has not found usable pairs")
        return FormState(cfg, run_dir, f"ready: {run_dir}")

    # ------------------------------------------------------------------ dataset check
    def _start_probe(self) -> None:
        self._deferred = None
        path = self.folder_edit.text().strip()
        self._probe = None
        self._probe_error = None
        self.preview_view.clear_image()
        self.report_view.clear()
        if not path:
            self._probe_pending = False
            self.check_label.setText("")
            self.changed.emit()
            return
        self._probe_pending = True
        self.check_label.setText("Checking the dataset…")
        self.check_label.setStyleSheet("")
        self.check_progress.setRange(0, 0)  # busy until the first pair is counted
        self.check_progress.show()
        fmt, direction = self.format_combo.currentData(), self.direction_combo.currentData()
        self._tasks.submit(lambda progress: probe_dataset(path, fmt, direction, progress=progress),
                           self._on_probe_succeeded, self._on_probe_failed, key="dataset-probe",
                           on_progress=self._on_probe_progressed)
        self.changed.emit()

    def _on_probe_progressed(self, done: int, total: int) -> None:
        self.check_progress.setRange(0, max(1, total))
        self.check_progress.setValue(done)

    def restore_data_source(self, path: str, fmt: str = "auto") -> None:
        """The dataset of the last session (from the settings): filled in now, checked the first
        time the form is shown, so the app's first minute does not read a dataset."""
        with QSignalBlocker(self.folder_radio), QSignalBlocker(self.synthetic_radio):
            self.folder_edit.setText(path)
            _select(self.format_combo, fmt)
            self.folder_radio.setChecked(True)
        for widget in (self.folder_edit, self.browse_button, self.format_combo, self.direction_combo):
            widget.setEnabled(True)
        self.synthetic_count.setEnabled(False)
        self.report_view.setVisible(True)
        self.preview_view.clear_image()
        self._deferred = "folder"
        self._probe_pending = True
        self.check_label.setText("Checks the dataset when the training panel opens")
        self.changed.emit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        deferred, self._deferred = self._deferred, None
        if deferred == "folder" and self.folder_radio.isChecked():
            self._start_probe()
        elif deferred == "synthetic" and self.synthetic_radio.isChecked():
            self._start_synthetic_preview()

    def _start_synthetic_preview(self) -> None:
        """A look at the built-in data (a few generated pairs) — never blocks Start. Made when
        the form is first shown: at start-up the panel is hidden and the model loads."""
        if not self.isVisible():
            self._deferred = "synthetic"
            return
        self._tasks.submit(lambda: probe_dataset("synthetic", "synthetic", "BtoA"),
                           self._on_synthetic_preview_ready, lambda _exc: None, key="dataset-probe")

    def _on_synthetic_preview_ready(self, result: ProbeResult) -> None:
        if self.synthetic_radio.isChecked() and result.preview is not None:
            self.preview_view.set_image(rgb_to_qimage(result.preview))

    def _on_probe_succeeded(self, result: ProbeResult) -> None:
        self._probe_pending = False
        self.check_progress.hide()
        self._probe = result
        self._probe_error = None if result.ok else result.headline
        self.check_label.setText(result.headline)
        self.check_label.setStyleSheet("" if result.ok else "color: #c0392b; font-weight: bold;")
        self.report_view.setPlainText(result.report)
        if result.preview is not None:
            self.preview_view.set_image(rgb_to_qimage(result.preview))
        if result.ok and self.folder_radio.isChecked():
            self.dataset_checked.emit(self.folder_edit.text().strip(), str(self.format_combo.currentData()))
        self.changed.emit()

    def _on_probe_failed(self, exc: BaseException) -> None:
        message = error_message(exc)
        self._probe_pending = False
        self.check_progress.hide()
        self._probe = None
        self._probe_error = message
        self.check_label.setText(message)
        self.check_label.setStyleSheet("color: #c0392b; font-weight: bold;")
        self.changed.emit()

    @property
    def probe_pending(self) -> bool:
        return self._probe_pending

    @property
    def photos_only(self) -> bool:
        """The chosen folder holds photos alone: a run labels them with the segmenter first."""
        return (self.folder_radio.isChecked() and self._probe is not None and self._probe.ok
                and self._probe.photos_only > 0)

    # ------------------------------------------------------------------ slots
    def _on_setting_changed(self) -> None:
        if not self._applying and self.preset_combo.currentData() != CUSTOM:
            with QSignalBlocker(self.preset_combo):
                _select(self.preset_combo, CUSTOM)
        self.changed.emit()

    def _on_preset_changed(self) -> None:
        self.apply_preset(self.preset_combo.currentData())

    def _on_source_toggled(self) -> None:
        folder = self.folder_radio.isChecked()
        for widget in (self.folder_edit, self.browse_button, self.format_combo, self.direction_combo):
            widget.setEnabled(folder)
        self.synthetic_count.setEnabled(not folder)
        self.report_view.setVisible(folder)  # the synthetic data has nothing to report
        if folder:
            self._start_probe()
        else:
            self._probe_pending = False
            self.check_progress.hide()
            self.check_label.setText("Procedural street scenes, generated on the fly from the seed.")
            self.check_label.setStyleSheet("")
            self.report_view.clear()
            self.preview_view.clear_image()
            self._start_synthetic_preview()  # replaces (makes stale) any folder check under way
            self.changed.emit()

    def _on_folder_edited(self) -> None:
        if self.folder_radio.isChecked():
            self._start_probe()

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.folder_edit.text())
        if folder:
            self.set_data_source(folder)

    def _select_init(self, init_from: str) -> None:
        """Show `init_from` in the Start-from list (a weights file is added to it once)."""
        if self.init_combo.findData(init_from) < 0:
            self.init_combo.addItem(Path(init_from).name, init_from)
            self.init_combo.setItemData(self.init_combo.count() - 1, init_from, Qt.ItemDataRole.ToolTipRole)
        _select(self.init_combo, init_from)

    def _on_init_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Start from weights", "",
                                              "Generator weights (*.safetensors *.pt)")
        if path:
            self._select_init(path)

    def _on_runs_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Runs folder", self.runs_edit.text())
        if folder:
            self.runs_edit.setText(folder)
            self.runs_dir_changed.emit()

    def _on_device_changed(self) -> None:
        cuda = self.device_combo.currentData() == "cuda"
        self.bf16_check.setEnabled(cuda)
        if not cuda and self.bf16_check.isChecked():
            self.bf16_check.setChecked(False)

    def set_editable(self, editable: bool) -> None:
        """Lock the form while a run trains (its settings are the run's)."""
        content = self.widget()
        if content is not None:
            content.setEnabled(editable)
