"""Screenshot every tab of the training panel at the app's first-launch size on one screen size.

    xvfb-run -a -s "-screen 0 1366x768x24" python docs/make_training_screenshots.py --out docs/images
    xvfb-run -a -s "-screen 0 1920x1080x24" python docs/make_training_screenshots.py --out docs/images

What a new user does, with real widgets: the app starts (fresh settings in a temporary folder),
View ▸ Training opens the dock, a small run on the built-in synthetic streets starts from the
set-up form with the painting pinned, and a run trained with roadstudio-cli elsewhere is added
with *Open run folder…*. Once samples, a canvas rendering, pinned frames and two validations are
in, the run is stopped and each tab is saved as training_<tab>_<W>x<H>.png (the whole window).
Prints the size each monitor picture was drawn at. Takes 1-3 minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TABS = {"setup": "form", "monitor": "monitor", "checkpoints": None, "history": "history", "pinned": "pinned"}


def wait(app, condition, timeout_s: float = 1800.0, what: str = "") -> None:  # noqa: ANN001
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--steps", type=int, default=18, help="train this many steps before the screenshots")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="roadstudio-shots-"))
    os.environ["ROADSTUDIO_HOME"] = str(home)

    from PySide6.QtWidgets import QApplication

    from core.cli import main as cli_main
    from desktop import app as app_module, settings

    settings.configure_application()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    screen = app.primaryScreen().availableGeometry()
    tag = f"{screen.width()}x{screen.height()}"

    # A run trained from the command line into a folder of the user's choice.
    elsewhere = home / "experiments" / "cli-street-run"
    cli_main(["train", "--data", "synthetic", "--synthetic-count", "16", "--depth", "4", "--ngf", "8", "--ndf", "8",
              "--crop-size", "64", "--batch-size", "4", "--max-steps", "8", "--sample-every", "4",
              "--checkpoint-every", "4", "--device", "cpu", "--run-dir", str(elsewhere)])

    window = app_module.open_window(None, device="cpu")
    try:
        return _shoot_tabs(app, window, elsewhere, args.out, args.steps, tag)
    finally:
        window.shutdown()


def _shoot_tabs(app, window, elsewhere: Path, out: Path, steps: int, tag: str) -> int:  # noqa: ANN001
    wait(app, lambda: window.last_output is not None, what="the first image")
    window.training_dock.toggleViewAction().trigger()  # View ▸ Training, as a user opens it
    panel = window.training_panel
    wait(app, lambda: panel.isVisible(), what="the dock")
    panel.open_run_folder(elsewhere.parent)

    form = panel.form
    form.synthetic_count.setValue(36)  # 9 steps an epoch: a validation every 9 steps
    form.val_spin.setValue(0.12)
    form.depth_spin.setValue(6)
    form.ngf_spin.setValue(16)
    form.ndf_spin.setValue(16)
    form.load_h.setValue(72)
    form.load_w.setValue(72)
    form.crop_h.setValue(64)
    form.crop_w.setValue(64)
    form.batch_spin.setValue(4)
    form.sample_spin.setValue(3)
    form.checkpoint_spin.setValue(9)
    form.device_combo.setCurrentIndex(form.device_combo.findData("cpu"))
    form.set_run_name("street-run")
    panel.tabs.setCurrentWidget(form)
    wait(app, lambda: form.preview_view.image() is not None, what="the set-up preview")
    shots: dict[str, Path] = {}
    out.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> None:
        app.processEvents()
        path = out / f"training_{name}_{tag}.png"
        window.grab().save(str(path))
        shots[name] = path

    shoot("setup")
    if not panel.start_run():
        raise SystemExit(f"could not start: {panel.status_label.text()}")
    wait(app, lambda: panel.run_dir is not None and (panel.run_dir / "config.toml").is_file(), what="the run")
    panel.pinned.pin_button.click()  # the painting on the canvas, rendered at every sample step
    monitor = panel.monitor
    wait(app, lambda: monitor.last_step >= steps and monitor.canvas_view.image() is not None
         and len(monitor.validations) >= 2, what="samples and validations")
    panel.stop_run()
    wait(app, lambda: not panel.is_running, what="the run to stop")
    panel.tabs.setCurrentWidget(monitor)
    app.processEvents()
    shoot("monitor")
    for name, view in (("sample", monitor.sample_view), ("canvas", monitor.canvas_view)):
        rect, image = view.shown_rect(), view.image()
        size = f"{image.width()}×{image.height()}" if image is not None else "none"
        print(f"{tag}: monitor {name} picture drawn {rect.width()}×{rect.height()} px (image {size})")
    print(f"{tag}: window {window.width()}×{window.height()}, dock {window.training_dock.height()} px tall")
    panel.tabs.setCurrentIndex(2)
    shoot("checkpoints")
    panel.tabs.setCurrentWidget(panel.history)
    wait(app, lambda: len(panel.history.runs()) >= 2, what="both runs in the history")
    shoot("history")
    panel.tabs.setCurrentWidget(panel.pinned)
    shoot("pinned")
    for path in shots.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
