"""Non-interactive rendering: open a scene, wait until its preview is on screen, save a
screenshot of the whole main window, exit. Used by `--screenshot`, by `roadstudio` without a
display, by the docs and by tests. Errors become one line on stderr and exit code 2."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication

from core.render import provenance
from core.errors import UserError
from desktop import messages
from desktop.qimage import qimage_to_rgb

if TYPE_CHECKING:  # the window (and torch behind it) is imported when a screenshot is taken
    from desktop.compare.controller import Side
    from desktop.compare.view import CompareMode
    from desktop.main_window import MainWindow
    from desktop.preview.worker import ModelSource

WINDOW_SIZE = (1400, 760)
TIMEOUT_S = 300


class _ScreenshotError(Exception):
    pass


def _wait_for(signal_list: Sequence[SignalInstance], timeout_s: float) -> tuple[int, tuple[object, ...]]:
    """Run the event loop until one of the signals fires; (its index, its arguments)."""
    loop = QEventLoop()
    result: list[tuple[int, tuple[object, ...]]] = []
    connections: list[tuple[SignalInstance, Callable[..., None]]] = []
    for index, signal in enumerate(signal_list):
        def handler(*args: object, _i: int = index) -> None:
            if not result:
                result.append((_i, args))
            loop.quit()
        signal.connect(handler)
        connections.append((signal, handler))
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    for signal, handler in connections:
        signal.disconnect(handler)
    if not result:
        raise _ScreenshotError(f"timed out after {timeout_s:.0f} s")
    return result[0]


def run_screenshot(*, open_path: Path | None, checkpoint: Path | None, view: str | None, out: Path,
                   device: str = "auto", announce: bool = False, compare: Path | None = None) -> int:
    from desktop.scene.default import default_scene
    from desktop.main_window import MainWindow, default_model_path
    from desktop.compare.view import COMPARE_MODES
    from desktop.preview.views import VIEW_MODES
    from desktop.preview.worker import ModelSource

    errors: list[str] = []
    messages.set_error_sink(lambda title, text: errors.append(text))
    window = MainWindow(device=device)
    try:
        window.resize(*WINDOW_SIZE)
        comparing = compare is not None or view == "critic"
        if view in VIEW_MODES and not comparing:  # (app.py has checked --view against --compare)
            window.set_view_mode(view)
        if open_path is not None:
            window.session.open_path_blocking(open_path)
            what = open_path.name
        else:
            ids, _path, what = default_scene()
            window.session.load_ids(ids, None)
        window.show()
        model = checkpoint if checkpoint is not None else default_model_path()
        has_model = checkpoint is not None or model.is_file()
        if has_model:
            window.load_model(ModelSource(path=model))
            index, payload = _wait_for([window.preview.model_loaded, window.preview.model_failed], TIMEOUT_S)
            if index == 1:
                raise UserError(payload[0])
            _wait_for_current_preview(window)
        if comparing:
            if not has_model:
                raise UserError(f"{model}: no such file (the default model is missing; give --checkpoint)")
            _show_compare(window, ModelSource(path=model), ModelSource(path=compare) if compare else None,
                          view if view in COMPARE_MODES else "side")
        window.canvas.fit()
        _settle()
        image = qimage_to_rgb(window.grab().toImage())
        provenance.write_png(out, image, window.provenance("screenshot"))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except _ScreenshotError as exc:
        print(f"error: no preview appeared: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {out}: cannot be written ({exc.strerror or exc})", file=sys.stderr)
        return 2
    finally:
        window.shutdown()
        window.deleteLater()
        messages.set_error_sink(None)
    if errors:  # e.g. a preview that failed: the screenshot exists but says so
        print("warning: " + errors[-1], file=sys.stderr)
    if announce:
        model_note = "" if has_model else " (no model loaded: the preview pane says so)"
        print(f"Road Studio rendered {what} to {out}{model_note}")
    else:
        print(str(out))
    return 0


def _show_compare(window: MainWindow, a: ModelSource, b: ModelSource | None, mode: CompareMode) -> None:
    """Show the compare panel with A (and B) and wait until each side shows the painting as it is
    now (and, for the critic view, A's discriminator map or the reason there is none)."""
    link = window.compare
    link.show_compare(a, b, mode)
    controller = link.controller
    wanted: dict[Side, ModelSource] = {"A": a} if b is None else {"A": a, "B": b}
    deadline = time.monotonic() + TIMEOUT_S

    def ready() -> bool:
        for side, source in wanted.items():
            shown = controller.shown(side)
            if shown is None or shown.source != source:
                return False
            if shown.ids.shape != window.session.document.shape:
                return False
        if mode == "critic":
            shown = controller.shown("A")
            return shown is not None and (shown.critic_map is not None or bool(shown.critic_note))
        if mode == "diff":
            return link.panel.view.difference() is not None  # computed on a background thread
        return True

    while not ready():
        left = deadline - time.monotonic()
        if left <= 0:
            raise _ScreenshotError(f"timed out after {TIMEOUT_S} s")
        index, payload = _wait_for([controller.shown_changed, controller.failed, link.panel.view.difference_ready],
                                   left)
        if index == 1:
            raise UserError(payload[1])
    link.panel.view.repaint()


def _wait_for_current_preview(window: MainWindow) -> None:
    """Until the preview of the document as it is now is on screen."""
    deadline = time.monotonic() + TIMEOUT_S
    target = window.session.document.version
    while window.shown_version < target:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _ScreenshotError(f"timed out after {TIMEOUT_S} s")
        index, payload = _wait_for([window.preview_displayed, window.preview.failed], left)
        if index == 1:
            raise UserError(payload[0])


def _settle() -> None:
    """Let pending layout/paint events run so the grab shows the final state."""
    for _ in range(5):
        QApplication.processEvents()
        time.sleep(0.01)
