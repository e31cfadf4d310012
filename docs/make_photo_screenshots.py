"""Open a real street photo in the real app (File ▸ Open photo…) and screenshot the window.

    xvfb-run -a python docs/make_photo_screenshots.py PHOTO [--out docs/images]

PHOTO: e.g. ../shared/data/camvid/test/0001TP_008550.png. Writes photo_open_overlay.png (the photo
with its labels over it at 50 % opacity) and photo_open_labels.png (the photo layer hidden: the
labels alone), each of the whole main window, with the default model's rendering beside them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.io import imageio
from desktop.qimage import qimage_to_rgb
from docs.shots import open_window, settle, wait


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("photo", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "images")
    args = parser.parse_args()
    app, window = open_window()
    window.load_default_model()
    bar = window.photo.bar  # the default model's rendering beside the labels, not the photo edit
    bar.output_combo.setCurrentIndex(bar.output_combo.findData(None))
    opened: list[object] = []
    window.photo.photo_opened.connect(opened.append)
    window.photo.open_photo(args.photo)
    wait(app, lambda: bool(opened) and window.shown_version >= window.session.document.version
         and not window.preview.in_flight, "the photo or its preview did not come")
    args.out.mkdir(parents=True, exist_ok=True)
    window.photo.bar.label_slider.setValue(50)
    settle(app)
    imageio.write_png(args.out / "photo_open_overlay.png", qimage_to_rgb(window.grab().toImage()))
    window.photo.bar.toggle_action.setChecked(False)
    settle(app)
    imageio.write_png(args.out / "photo_open_labels.png", qimage_to_rgb(window.grab().toImage()))
    print(args.out / "photo_open_overlay.png", args.out / "photo_open_labels.png", sep="\n")
    window.session.document.mark_saved()
    window.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
