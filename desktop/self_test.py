"""`roadstudio --self-test`: prove that a (frozen) installation works, without a display.

Loads the default model, renders a sample scene through the same Predictor the app uses, checks
that the image is not blank, and converts it to a QImage so Qt's own libraries and platform
plugin are exercised too. Prints device and timings; exit 0 on success, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from core import __version__
from core.io.resources import resource_path

#: A rendered street scene has texture; a blank or constant image has almost no spread.
MIN_PIXEL_STD = 5.0


def run_self_test() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    try:
        from PySide6.QtGui import QGuiApplication, QImage

        from core.io.imageio import read_label_map
        from core.render.infer import Predictor

        app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
        model_path = resource_path("models", "default.safetensors")
        scene_path = resource_path("samples", "city_street.png")
        t_load = time.perf_counter()
        predictor = Predictor.from_path(model_path)
        load_s = time.perf_counter() - t_load
        ids = read_label_map(scene_path).ids
        predictor.predict(ids)  # warm-up
        t_pred = time.perf_counter()
        image = predictor.predict(ids)
        predict_s = time.perf_counter() - t_pred
        if image.shape != (*ids.shape, 3):
            print(f"self-test FAILED: output shape {image.shape} for a {ids.shape} scene", file=sys.stderr)
            return 1
        std = float(np.asarray(image, dtype=np.float32).std())
        if std < MIN_PIXEL_STD:
            print(f"self-test FAILED: rendered image is blank (pixel std {std:.2f})", file=sys.stderr)
            return 1
        qimage = QImage(image.data, image.shape[1], image.shape[0], image.strides[0], QImage.Format.Format_RGB888)
        if qimage.isNull() or qimage.width() != ids.shape[1]:
            print("self-test FAILED: Qt could not take the rendered image", file=sys.stderr)
            return 1
        del app
    except Exception as exc:  # noqa: BLE001 - a self-test reports every failure as one line
        print(f"self-test FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"roadstudio {__version__} self-test OK: device {predictor.device}, "
          f"model load {load_s * 1000:.0f} ms, render {ids.shape[1]}×{ids.shape[0]} "
          f"{predict_s * 1000:.0f} ms, pixel std {std:.1f}, total {time.perf_counter() - t0:.1f} s")
    return 0
