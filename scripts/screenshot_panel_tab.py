"""Screenshot of one tab of the training panel showing a run folder (docs images).

    python scripts/screenshot_panel_tab.py RUN_DIR --tab Pinned|Monitor --out OUT.png [--size 1500x620]

Opens the run as History ▸ Open does (offscreen), waits for its files to be read, grabs the panel.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--tab", default="Pinned", choices=("Pinned", "Monitor"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", default="1500x620")
    args = parser.parse_args()
    os.environ.setdefault("ROADSTUDIO_HOME", tempfile.mkdtemp())

    from PySide6.QtWidgets import QApplication

    from core.render import provenance
    from desktop import settings
    from desktop.qimage import qimage_to_rgb
    from desktop.training import TrainingPanel

    settings.configure_application()
    app = QApplication.instance() or QApplication([])
    panel = TrainingPanel(args.run.parent)
    w, h = (int(v) for v in args.size.split("x"))
    panel.resize(w, h)
    panel.show()
    loaded: list[str] = []
    panel.pinned.strips_loaded.connect(loaded.append)
    panel.open_run(args.run)
    deadline = time.monotonic() + 120
    while not loaded and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    panel.tabs.setCurrentWidget(panel.pinned if args.tab == "Pinned" else panel.monitor)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    image = qimage_to_rgb(panel.grab().toImage())
    provenance.write_png(args.out, image, provenance.Provenance(kind="screenshot", model=None,
                                                                extra={"run": args.run.name, "tab": args.tab}))
    panel.shutdown()
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
