"""`roadstudio`: the desktop app's entry point and command line.

    roadstudio [FILE]                         open a label map
    roadstudio --open FILE [--checkpoint CKPT] [--view side|overlay|swipe] --screenshot OUT.png
                                              render, save a screenshot of the window, exit
    roadstudio --open FILE --checkpoint A --compare B [--view side|swipe|diff] --screenshot OUT.png
                                              A/B compare of two generators (desktop/compare/)
    roadstudio --open FILE [--checkpoint A] --view critic --screenshot OUT.png
                                              A's image under its discriminator's critic map
                                              (`--view realism`, its old name, still works with a note)
    roadstudio --version
    roadstudio --self-test                    offscreen check of an installation (used on the frozen app)

On Linux without a display, Qt runs offscreen; `roadstudio` with no arguments then renders the
default scene to ./roadstudio-preview.png and says where it went (the README's first check).
Exit codes: 0 ok, 2 bad file / checkpoint / arguments (one line on stderr), 1 unexpected error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from core import __version__

if TYPE_CHECKING:  # Qt is imported lazily: `--version` and `--help` start without it
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow

HEADLESS_PREVIEW_NAME = "roadstudio-preview.png"
VIEW_CHOICES = ("side", "overlay", "swipe", "diff", "critic")
#: Old --view names that still work, with a deprecation note on stderr: "realism" means only the
#: FCN-score now (core.eval.realism); the discriminator's map is the critic map.
DEPRECATED_VIEWS = {"realism": "critic"}
SCREENSHOT_TIMEOUT_S = 300


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="roadstudio", description="Road Studio: paint a street scene, watch a "
                     "pix2pix U-Net render it live.")
    parser.add_argument("file", nargs="?", type=Path, help="label map to open (labelIds PNG, colour "
                        "label PNG or pix2pix A|B image)")
    parser.add_argument("--open", dest="open_path", type=Path, metavar="FILE", help="label map to open")
    parser.add_argument("--checkpoint", type=Path, metavar="CKPT",
                        help="generator to load (.safetensors or training .pt) instead of the default model")
    parser.add_argument("--view", choices=VIEW_CHOICES + tuple(DEPRECATED_VIEWS),
                        metavar="{" + ",".join(VIEW_CHOICES) + "}",
                        help="how to show the generated image: side, overlay, swipe; with --compare: side, "
                             "swipe, diff; critic: the discriminator's view of the image")
    parser.add_argument("--compare", type=Path, metavar="CKPT_B",
                        help="compare the --checkpoint (or default) generator A with this generator B")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png",
                        help="wait for the preview, save a screenshot of the window to OUT.png and exit")
    parser.add_argument("--device", default="auto", help="inference device: auto, cpu, cuda, mps")
    parser.add_argument("--version", action="version", version=f"roadstudio {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="offscreen: render a sample scene with the default model, check it, print timing, exit")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, with an old --view name turned into its new one (and a note saying so)."""
    args = build_parser().parse_args(argv)
    if args.view in DEPRECATED_VIEWS:
        new = DEPRECATED_VIEWS[args.view]
        print(f"roadstudio: note: --view {args.view} is deprecated; use --view {new}", file=sys.stderr)
        args.view = new
    return args


def has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def ensure_platform() -> bool:
    """Use Qt's offscreen platform on a Linux machine without a display. True when headless."""
    platform = os.environ.get("QT_QPA_PLATFORM")
    if platform is None and not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return True
    return platform == "offscreen" or (platform is None and not has_display())


def main(argv: Sequence[str] | None = None) -> int:
    # The app runs torch in two worker threads (preview, training). OpenMP's default busy-wait
    # makes their thread pools spin against each other (and against other programs): many
    # times slower steps on a busy 2-core machine. Must be set before torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = parse_args(argv)
    if args.self_test:
        from desktop.self_test import run_self_test

        return run_self_test()
    if args.file and args.open_path:
        print("roadstudio: error: give the label map either as FILE or with --open, not both", file=sys.stderr)
        return 2
    open_path: Path | None = args.open_path or args.file
    if args.view == "overlay" and args.compare is not None:
        print("roadstudio: error: --view overlay is a preview view; with --compare use side, swipe or diff",
              file=sys.stderr)
        return 2
    if args.view == "diff" and args.compare is None:
        print("roadstudio: error: --view diff needs a second generator: --compare CKPT_B", file=sys.stderr)
        return 2
    headless = ensure_platform()
    screenshot: Path | None = args.screenshot
    default_render = False
    if screenshot is None and headless and argv_is_empty(argv):
        screenshot = Path.cwd() / HEADLESS_PREVIEW_NAME
        default_render = True

    from PySide6.QtWidgets import QApplication

    from desktop import settings

    if headless:
        _silence_offscreen_noise()
    settings.configure_application()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Road Studio")
    app.setApplicationVersion(__version__)

    if screenshot is not None:
        from desktop.screenshot import run_screenshot

        return run_screenshot(open_path=open_path, checkpoint=args.checkpoint, view=args.view,
                              out=screenshot, device=args.device, announce=default_render, compare=args.compare)
    return _run_interactive(app, open_path, args.checkpoint, args.view, args.device, args.compare)


def _silence_offscreen_noise() -> None:
    """Qt's offscreen platform warns about window features it lacks (size hints) on every dock
    and dialog; those lines mean nothing to a user of --screenshot. Everything else still prints."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if "does not support propagateSizeHints" in message:
            return
        print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def argv_is_empty(argv: Sequence[str] | None) -> bool:
    return not (sys.argv[1:] if argv is None else list(argv))


def _run_interactive(app: QApplication, open_path: Path | None, checkpoint: Path | None, view: str | None,
                     device: str, compare: Path | None = None) -> int:
    from desktop import messages

    preview_view = view if view in ("side", "overlay", "swipe") else None
    window = open_window(open_path, checkpoint, preview_view, device)
    messages.install_excepthook(lambda: window)
    if compare is not None or view == "critic":
        _show_compare(window, checkpoint, compare, view)
    return int(app.exec())


def _show_compare(window: MainWindow, checkpoint: Path | None, compare: Path | None, view: str | None) -> None:
    """--compare B / --view critic: the compare panel with A = --checkpoint (or the default model)."""
    from desktop.compare.view import COMPARE_MODES
    from desktop.main_window import default_model_path
    from desktop.preview.worker import ModelSource

    a = ModelSource(path=checkpoint if checkpoint is not None else default_model_path())
    b = ModelSource(path=compare) if compare is not None else None
    mode = view if view in COMPARE_MODES else "side"
    window.compare.show_compare(a, b, mode)


def open_window(open_path: Path | None, checkpoint: Path | None = None, view: str | None = None,
                device: str = "auto") -> MainWindow:
    """The start-up of `roadstudio [FILE]`: the window shown, recovery offered, the file opened
    (a file that cannot be opened gets a message box; the sample scene stays), a model loaded."""
    from desktop.scene.default import default_scene
    from desktop.main_window import MainWindow
    from desktop.preview.views import VIEW_MODES
    from desktop.preview.worker import ModelSource

    window = MainWindow(device=device)
    if view in VIEW_MODES:
        window.set_view_mode(view)
    # The model loads on the preview worker thread (torch import, weights, first render) while
    # the window shows itself and the scene opens: asked for first, it is ready sooner.
    if checkpoint is not None:
        window.load_model(ModelSource(path=checkpoint))
    else:
        window.load_default_model()
    window.show()
    # Unsaved work from a crashed session is offered first, also when a file was named: the
    # next stroke would otherwise overwrite the recovery file.
    restored = window.session.offer_recovery()
    if not restored:
        # The sample scene first: it is what stays on the canvas when the named file turns out
        # to be unreadable (the open runs in the background and replaces it on success).
        ids, _path, _ = default_scene()
        window.session.load_ids(ids, None)  # a sample is a starting point: Save asks where
        if open_path is not None:
            window.open_path(open_path, confirmed=True)
    return window


if __name__ == "__main__":
    sys.exit(main())
