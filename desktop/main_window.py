"""The main window: it composes the parts and wires their signals; the parts do the work.

    SceneSession        the open scene and every file operation (desktop/scene/session.py)
    CanvasView          painting (desktop/canvas/)
    PreviewController   live inference on a worker thread (desktop/preview/)
    PreviewPanel        the generated image: side by side, overlay, swipe
    ClassPalette        class swatches (dock)
    StudioToolBar       tools, brush size, variation seed, view switch
    ModelMenu           load checkpoint / model card
    CompareLink         A/B compare, step scrubber, critic overlay (desktop/compare/)
    PhotoLink           File ▸ Open photo…, segmenting, the photo tracing layer (desktop/photo/)
    EditExport          File ▸ Export edited photo… (the preview shows the photo edit while a photo is open)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDialog, QDockWidget, QFileDialog, QFrame, QMainWindow, QMenu, QMessageBox, QScrollArea, QSplitter,
)

from core import __version__
from core.io.resources import resource_path
from core.render import provenance
from desktop import gc_policy, messages, settings
from desktop.canvas.document import LabelDocument
from desktop.canvas.view import CanvasView
from desktop.compare.window_link import CompareLink
from desktop.photo.export import EditExport
from desktop.photo.link import PhotoLink
from desktop.preview.controller import PreviewController
from desktop.preview.views import VIEW_MODES, CanvasLink, PreviewPanel, ViewMode
from desktop.preview.worker import EDIT_RENDERER_TITLES, ModelInfo, ModelSource
from desktop.scene import files
from desktop.scene.new_dialog import NewSceneDialog
from desktop.scene.pair_inspector import PairInspector
from desktop.scene.session import SceneSession
from desktop.window import layout
from desktop.window.actions import StudioActions, build_menus
from desktop.window.model_menu import ModelMenu
from desktop.window.palette import ClassPalette
from desktop.window.status_bar import NO_MODEL_TEXT, StudioStatusBar
from desktop.window.toolbar import StudioToolBar

from desktop.training.panel import TrainingPanel

CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth")


def default_model_path() -> Path:
    return resource_path("models", "default.safetensors")


class MainWindow(QMainWindow):
    #: A preview for this document version is on screen (used by --screenshot and tests).
    preview_displayed = Signal(int)

    def __init__(self, *, device: str = "auto") -> None:
        super().__init__()
        self.setObjectName("road_studio_main_window")
        self.setAcceptDrops(True)
        self.actions_ = StudioActions(self)
        menus = build_menus(self, self.actions_)
        self._recent_menu = menus["recent"]

        self.session = SceneSession(lambda: self, self)
        self.canvas = CanvasView(self.session.document, self)
        self.preview_panel = PreviewPanel(self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("canvas_preview_splitter")
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.preview_panel)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.view_link = CanvasLink(self.canvas, self.preview_panel.view)  # zoom/pan mirrored

        self.class_palette = ClassPalette(self)
        self.palette_dock = QDockWidget("Classes", self)
        self.palette_dock.setObjectName("palette_dock")
        # Scrollable: 20 swatches would otherwise set a minimum height that, with the training
        # dock open on a 768-px screen, pushed the window past the bottom of the screen.
        palette_scroll = QScrollArea(self)
        palette_scroll.setWidget(self.class_palette)
        palette_scroll.setWidgetResizable(True)
        palette_scroll.setFrameShape(QFrame.Shape.NoFrame)
        palette_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        palette_scroll.setMinimumWidth(self.class_palette.sizeHint().width() + 16)
        self.palette_dock.setWidget(palette_scroll)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette_dock)
        menus["view"].addAction(self.palette_dock.toggleViewAction())
        self.training_panel = self._add_training_panel(menus["view"])

        self.tool_bar = StudioToolBar(self, list(self.actions_.views.values()), menus["tools"])
        self.tool_bar.addWidget(self.preview_panel.opacity_widget)
        self.addToolBar(self.tool_bar)
        self.status = StudioStatusBar(self)
        self.setStatusBar(self.status)
        self.class_palette.install_shortcuts(self)  # 1-9, 0, Shift+digits: see desktop/window/palette.py

        # With a photo open the preview is its edit (desktop/preview/controller.py, edit mode).
        self.preview = PreviewController(self._scene_for_preview, device=device, parent=self,
                                         photo_source=lambda: self.session.photo)
        self.model_menu = ModelMenu(menus["model"], self)
        # View ▸ Compare A/B (desktop/compare/): given the parts it needs, not the window.
        self.compare = CompareLink(self, menus["view"], device, splitter=self.splitter,
                                   preview_panel=self.preview_panel, scene=self.scene_for_compare,
                                   source_for=self.model_menu.source_for, runs_dir=self.training_panel.runs_dir)
        self.preview.model_loaded.connect(self.compare.on_canvas_model_loaded)
        self.canvas.stroke_finished.connect(self.compare.on_painting_changed)
        self.session.document_replaced.connect(lambda _doc: self.compare.on_painting_changed())
        self.tool_bar.variation_changed.connect(self.compare.controller.set_variation)
        self.training_panel.event_emitted.connect(self.compare.on_training_event)
        self.compare.panel.set_registry(self.training_panel.registry)  # one run list for every view
        # File ▸ Open a training pair…
        self.pair_inspector = PairInspector(self, session=self.session, preview_panel=self.preview_panel,
                                            status=self.status, training_dataset=self._training_dataset)
        menus["file"].insertAction(self.actions_.save, self.pair_inspector.action)
        self.last_output: np.ndarray | None = None
        self.last_output_ids: np.ndarray | None = None
        self._loading_heading = "Loading…"
        self.shown_version = -1
        self._shut_down = False

        self._wire()
        # File ▸ Open photo… (after _wire: its document slot runs after the window's own)
        self.photo = PhotoLink(self, session=self.session, canvas=self.canvas, status=self.status,
                               file_menu=menus["file"], after=self.actions_.open, view_menu=menus["view"])
        self.photo.bar.output_changed.connect(self._on_photo_bar_output_changed)
        self.edit_export = EditExport(self, session=self.session, preview=self.preview, image=lambda: self.last_output,
                                      file_menu=menus["file"], after=self.actions_.export_side)
        self._show_document(self.session.document)
        self._restore_settings()
        # Splitters are saved when the user lets go of one (not only on a clean close: a crash
        # or a killed session keeps the arrangement too).
        self._layout_save = QTimer(self)
        self._layout_save.setSingleShot(True)
        self._layout_save.setInterval(400)
        self._layout_save.timeout.connect(self.save_layout)
        for splitter in (self.splitter, *layout.named_splitters(self.training_panel)):
            splitter.splitterMoved.connect(lambda _pos, _index: self._layout_save.start())
        self._rebuild_recent_menu()
        self.setWindowTitle(self.session.window_title())

    # --------------------------------------------------------------------------------- set-up

    def _add_training_panel(self, view_menu: QMenu) -> TrainingPanel:
        # With the settings store: the runs folder, the folders runs were opened from and the
        # last dataset are remembered across restarts (desktop/training/run_registry.py).
        panel = TrainingPanel(settings.runs_dir_override(), self, store=settings.settings)
        panel.set_canvas_labels_provider(lambda: np.array(self.session.document.ids))
        dock = QDockWidget("Training", self)
        dock.setObjectName("training_dock")
        dock.setWidget(panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()  # opened from View ▸ Training; painting is the default screen
        view_menu.addAction(dock.toggleViewAction())
        panel.use_in_canvas_requested.connect(self.use_checkpoint)
        self.training_dock = dock
        return panel

    def _wire(self) -> None:
        a = self.actions_
        a.new.triggered.connect(self.new_scene)
        a.open.triggered.connect(self.open_dialog)
        a.save.triggered.connect(self.save)
        a.save_as.triggered.connect(self.save_as)
        a.export_output.triggered.connect(self.export_output)
        a.export_side.triggered.connect(self.export_side_by_side)
        a.quit.triggered.connect(self.close)
        a.undo.triggered.connect(self._on_undo_triggered)
        a.redo.triggered.connect(self._on_redo_triggered)
        a.zoom_fit.triggered.connect(self.canvas.fit)
        a.zoom_actual.triggered.connect(self.canvas.actual_size)
        a.view_group.triggered.connect(lambda action: self.set_view_mode(action.data()))
        a.about.triggered.connect(self._on_about_triggered)
        a.clear_recent.triggered.connect(self._on_clear_recent_triggered)

        s = self.session
        s.document_replaced.connect(self._show_document)
        s.title_changed.connect(self.setWindowTitle)
        s.status_message.connect(lambda text: self.status.showMessage(text, 8000))
        s.recent_changed.connect(self._rebuild_recent_menu)
        s.ask_save_path = self._ask_save_path

        c = self.canvas
        c.stroke_finished.connect(self._on_canvas_stroke_finished)
        c.cursor_moved.connect(self.status.set_cursor)
        c.zoom_changed.connect(self.status.set_zoom)
        c.class_picked.connect(self._select_class)
        c.message.connect(lambda text: self.status.showMessage(text, 8000))
        c.tool_changed.connect(self.tool_bar.show_tool)
        c.brush_size_changed.connect(self.tool_bar.show_brush_size)

        self.class_palette.class_selected.connect(self._select_class)
        self.tool_bar.tool_selected.connect(self.canvas.set_tool)
        self.tool_bar.brush_size_selected.connect(self.canvas.set_brush_size)
        self.tool_bar.variation_changed.connect(self.preview.set_variation)

        p = self.preview
        p.preview_shown.connect(self._on_preview_shown)
        p.labels_for_preview.connect(self._on_preview_labels)
        p.model_loading.connect(self._on_preview_model_loading)
        p.model_stage.connect(self._on_preview_model_stage)
        p.model_loaded.connect(self._on_preview_model_loaded)
        p.model_failed.connect(self._on_preview_model_failed)
        p.failed.connect(lambda text: self.status.showMessage(text, 10000))
        p.edit_model_loaded.connect(self._on_preview_edit_model_loaded)
        self.model_menu.load_requested.connect(self.load_model)

    # ------------------------------------------------------------------------------ document

    def _show_document(self, doc: LabelDocument) -> None:
        self.canvas.set_document(doc)
        doc.add_listener(self._on_document_changed)
        view = self.preview_panel.view
        if self.last_output is not None and self.last_output.shape[:2] != doc.shape:
            self.last_output = self.last_output_ids = None  # an image of another size: not this scene
            view.set_output(None)
            view.set_placeholder("Rendering…" if self.preview.has_model or self.session.photo is not None
                                 else self._loading_heading if self.preview.loading else NO_MODEL_TEXT)
        self.preview_panel.set_target(None)  # a pair inspector sets it again after this (its own scene)
        self.preview_panel.set_labels(np.asarray(doc.ids))
        self._update_edit_actions()
        self.shown_version = -1
        self.preview.document_replaced()
        if hasattr(self, "edit_export"):  # not yet during __init__
            self.edit_export.update_enabled()

    def _on_document_changed(self, rect: tuple[int, int, int, int]) -> None:
        # Called for every change (each mouse move of a stroke): only cheap work here.
        self.preview.request()

    def _on_canvas_stroke_finished(self) -> None:
        self.session.stroke_finished()
        # The training panel renders the painting with the training weights: give it the new one
        # now rather than at its next sample interval.
        self.training_panel.set_canvas_labels(self.session.document.ids)  # copies
        self._update_edit_actions()
        self.preview.request()  # the final preview after a stroke always follows

    def _on_undo_triggered(self) -> None:
        # The document's own steps first; when none is left, the step that replaced the whole
        # scene (opening a photo) is undone and the scene before it comes back.
        if self.canvas.undo():
            self.session.forget_redo_scenes()
        elif self.session.can_undo_scene:
            self.session.undo_scene()
        self._update_edit_actions()

    def _on_redo_triggered(self) -> None:
        if self.session.can_redo_scene:  # empty once anything changed after the scene undo
            self.session.redo_scene()
        else:
            self.canvas.redo()
        self._update_edit_actions()

    def _update_edit_actions(self) -> None:
        doc = self.session.document
        self.actions_.undo.setEnabled(doc.can_undo or doc.in_stroke or self.session.can_undo_scene)
        self.actions_.redo.setEnabled(doc.can_redo or self.session.can_redo_scene)

    def _select_class(self, label_id: int) -> None:
        self.canvas.set_current_class(label_id)
        self.class_palette.set_current_class(label_id)

    def _scene_for_preview(self) -> tuple[int, np.ndarray]:
        doc = self.session.document
        return doc.version, np.asarray(doc.ids)

    def _training_dataset(self) -> tuple[str, str]:
        """(folder, direction) of the dataset chosen in the training panel (for the pair inspector)."""
        form = self.training_panel.form
        return form.folder_edit.text().strip(), str(form.direction_combo.currentData())

    def scene_for_compare(self) -> tuple[int, np.ndarray]:
        """(document version, live ids) for the compare panel, which copies what it sends."""
        return self._scene_for_preview()

    # ------------------------------------------------------------------------------- preview

    def _on_preview_labels(self, ids: np.ndarray) -> None:
        self.last_output_ids = ids

    def _on_preview_shown(self, version: int, image: np.ndarray, latency_s: float) -> None:
        self.last_output = image
        view = self.preview_panel.view
        view.set_output(image)
        if self.last_output_ids is not None:
            self.preview_panel.set_labels(self.last_output_ids)  # the labels this image was made from
        shown = self.preview.last_shown
        if shown is not None and shown.photo is not None:  # a photo edit: say so, it is not the preview
            self.preview_panel.set_title(EDIT_RENDERER_TITLES.get(shown.renderer or "", "Photo edit")
                                         + " — the photo, changed only where you repaint its labels")
            self.status.set_inference(latency_s, shown.model.device if shown.model else "cpu", shown.backend)
        else:
            self.preview_panel.set_title("")
            info = self.preview.model
            self.status.set_inference(latency_s, info.device if info else None, self.preview.last_backend)
        self.edit_export.update_enabled()
        self.shown_version = version
        self.preview_displayed.emit(version)

    def _on_preview_edit_model_loaded(self, renderer: str, info: ModelInfo) -> None:
        self.status.showMessage(f"{EDIT_RENDERER_TITLES.get(renderer, renderer)}: loaded {info.name} on "
                                f"{info.device} in {info.load_s:.1f} s", 8000)

    def _on_photo_bar_output_changed(self, renderer: str | None) -> None:
        self.preview.set_edit_renderer(renderer)

    def _on_preview_model_loading(self, path: str) -> None:
        self.status.set_model(None, loading=Path(path).name)
        default = Path(path) == default_model_path()
        self._loading_heading = "Loading default model…" if default else f"Loading {Path(path).name}…"
        if not self.preview.has_model:  # the output pane says what happens instead of "No model"
            self.preview_panel.view.set_placeholder(self._loading_heading)

    def _on_preview_model_stage(self, stage: str) -> None:
        if not self.preview.has_model:
            self.preview_panel.view.set_placeholder(f"{self._loading_heading}\n{stage[:1].upper()}{stage[1:]}…")

    def _on_preview_model_loaded(self, info: ModelInfo) -> None:
        self.status.set_model(info)
        self.model_menu.set_model(info)
        self.class_palette.set_model_card(info.card)  # hatch the brushes this model barely saw
        self.preview_panel.view.set_placeholder("Rendering…")
        self.status.showMessage(f"Loaded {info.name} ({info.parameters:,} parameters) on {info.device}", 8000)
        gc_policy.freeze_startup_objects()  # torch and the model are loaded: start-up is over

    def _on_preview_model_failed(self, message: str) -> None:
        self.status.set_model(self.preview.model)
        if not self.preview.has_model:
            self.preview_panel.view.set_placeholder(NO_MODEL_TEXT)
        messages.show_error(self, "Cannot load checkpoint", message)

    def load_model(self, source: ModelSource) -> None:
        self._on_preview_model_loading(str(source.path))  # said at once, before the worker starts
        self.preview.load_model(source)
        if source.path != default_model_path():
            self.training_panel.registry.remember(source.path)  # a run's checkpoint: list the run

    def use_checkpoint(self, path: str) -> None:
        """Slot for the training panel's "Use in canvas"."""
        self.load_model(ModelSource(path=Path(path)))

    def load_default_model(self) -> bool:
        path = default_model_path()
        if path.is_file():
            self.load_model(ModelSource(path=path))
            return True
        self.status.set_model(None)
        self.status.showMessage(NO_MODEL_TEXT, 15000)
        return False

    def set_view_mode(self, mode: ViewMode) -> None:
        if mode not in VIEW_MODES:
            raise ValueError(f"unknown view {mode!r}; expected one of {', '.join(VIEW_MODES)}")
        self.preview_panel.set_mode(mode)
        self.actions_.views[mode].setChecked(True)

    # ---------------------------------------------------------------------------------- files

    def new_scene(self) -> None:
        if not self.session.confirm_discard():
            return
        dialog = NewSceneDialog(self, self.session.document.shape)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            height, width, fill = dialog.values()
            self.session.new_scene(height, width, fill)

    def open_dialog(self) -> None:
        if not self.session.confirm_discard():
            return
        start = str(settings.settings().value("files/last_dir", ""))
        name, _ = QFileDialog.getOpenFileName(self, "Open label map", start, files.LABEL_FILE_FILTER)
        if name:
            self.open_path(Path(name), confirmed=True)

    def open_path(self, path: Path, *, confirmed: bool = False) -> None:
        if not confirmed and not self.session.confirm_discard():
            return
        settings.settings().setValue("files/last_dir", str(Path(path).parent))
        self.session.open_path(path)

    def save(self) -> None:
        if self.session.path is None:
            self.save_as()
        else:
            self.session.save_to(self.session.path, self.session.save_format)

    def save_as(self) -> None:
        choice = self._ask_save_path()
        if choice is not None:
            self.session.save_to(*choice)

    def _ask_save_path(self) -> tuple[Path, files.SaveFormat] | None:
        ids_filter = "Label ids PNG (*.png)"
        color_filter = "Cityscapes colour PNG (*.png)"
        start = str(self.session.path or Path(str(settings.settings().value("files/last_dir", "")))
                    / self.session.suggested_save_name())
        name, chosen = QFileDialog.getSaveFileName(self, "Save label map", start, f"{ids_filter};;{color_filter}",
                                                   color_filter if self.session.save_format == "color" else ids_filter)
        if not name:
            return None
        path = Path(name) if Path(name).suffix else Path(name).with_suffix(".png")
        return path, files.save_format_for(path, chosen)

    def _ask_export_path(self, title: str, suggestion: str) -> Path | None:
        if self.last_output is None:
            messages.show_error(self, title, "There is no generated image yet: load a model first "
                                             "(Model ▸ Load checkpoint…).")
            return None
        base = self.session.path.stem if self.session.path else "scene"
        start = str(Path(str(settings.settings().value("files/last_dir", ""))) / f"{base}_{suggestion}.png")
        name, _ = QFileDialog.getSaveFileName(self, title, start, "PNG image (*.png)")
        if not name:
            return None
        return Path(name) if Path(name).suffix else Path(name).with_suffix(".png")

    def export_output(self) -> None:
        path = self._ask_export_path("Export generated image", "generated")
        if path is not None and self.last_output is not None:
            self.session.export(path, self.last_output, self.provenance("output"))

    def export_side_by_side(self) -> None:
        path = self._ask_export_path("Export side-by-side image", "side_by_side")
        if path is not None and self.last_output is not None:
            ids = self.last_output_ids if self.last_output_ids is not None else np.asarray(self.session.document.ids)
            self.session.export(path, files.side_by_side(ids, self.last_output),
                                self.provenance("side_by_side", layout="labels | output"))

    def provenance(self, kind: str, *, layout: str | None = None) -> provenance.Provenance:
        """The record for an image made from the preview on screen (core.render.provenance)."""
        if kind == "screenshot" and self.compare.active:
            made = self.compare.panel.export_image()  # the compare panel is what the window shows
            if made is not None:
                return provenance.Provenance(kind="screenshot", model=made[1].model, labels=made[1].labels,
                                             variation=made[1].variation, compare=made[1].compare,
                                             layout=f"window, compare {self.compare.panel.mode()}")
        shown = self.preview.last_shown
        if shown is None or shown.model is None:
            return provenance.Provenance(kind=kind, model=None, labels=self.last_output_ids, layout=layout)
        return provenance.Provenance(kind=kind, model=shown.model.stamp(), labels=shown.ids,
                                     variation=shown.variation, device=shown.model.device,
                                     backend=shown.backend, layout=layout)

    def _rebuild_recent_menu(self) -> None:
        menu = self._recent_menu
        menu.clear()
        paths = self.session.recent.paths()
        for path in paths:
            action = menu.addAction(path.name)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        if paths:
            menu.addSeparator()
        menu.addAction(self.actions_.clear_recent)
        self.actions_.clear_recent.setEnabled(bool(paths))

    def _on_clear_recent_triggered(self) -> None:
        self.session.recent.clear()
        self._rebuild_recent_menu()

    # -------------------------------------------------------------------------- drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        path = paths[0]
        if path.suffix.lower() in CHECKPOINT_SUFFIXES:
            source = self.model_menu.source_for(path)
            if source is not None:
                self.load_model(source)
        else:
            self.open_path(path)

    # ------------------------------------------------------------------------ settings / close

    def _restore_settings(self) -> None:
        store = settings.settings()
        geometry = store.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.setGeometry(layout.first_launch_geometry(self.screen()))
        state = store.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        else:
            # First launch: the training dock, when opened, takes about half the height, so its
            # charts and pictures are readable without dragging the dock edge first.
            layout.grow_dock_when_first_shown(self, self.training_dock, share=0.5)
        layout.keep_on_screen_when_shown(self, self.training_dock)
        layout.restore_splitters(store, self.training_panel)
        splitter = store.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([1000, 1000])  # canvas and generated image equally wide
        mode = str(store.value("view/mode", "side"))
        self.set_view_mode(mode if mode in VIEW_MODES else "side")
        try:
            opacity = int(str(store.value("view/overlay_opacity", 50)))
        except (TypeError, ValueError):
            opacity = 50
        self.preview_panel.opacity_slider.setValue(opacity)

    def save_layout(self) -> None:
        """The splitter positions (canvas | output, the monitor's) into the settings now."""
        store = settings.settings()
        store.setValue("window/splitter", self.splitter.saveState())
        layout.save_splitters(store, self.training_panel)
        store.sync()

    def save_settings(self) -> None:
        store = settings.settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.setValue("window/splitter", self.splitter.saveState())
        layout.save_splitters(store, self.training_panel)
        store.setValue("view/mode", self.preview_panel.view.mode())
        store.setValue("view/overlay_opacity", self.preview_panel.opacity_slider.value())
        store.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:
            event.accept()
            return
        if not self.training_panel.request_close():
            event.ignore()
            return
        if not self.session.confirm_discard():
            event.ignore()
            return
        self.save_settings()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop and join the worker threads, finish file writes, remove the recovery file."""
        if self._shut_down:
            return
        self._shut_down = True
        self.training_panel.shutdown()
        self.compare.stop()
        self.pair_inspector.shutdown()
        self.photo.stop()
        self.preview.stop()
        self.session.shutdown(clean=True)

    def _on_about_triggered(self) -> None:
        QMessageBox.about(self, "About Road Studio",
                          f"<b>Road Studio {__version__}</b><p>Paint a street scene; a pix2pix U-Net "
                          "renders it as you paint. Train your own models in the training panel.</p>")

