"""Plain helpers for the app tests (main window, files, preview). Their fixtures (make_window,
isolated_home, tiny_checkpoint, error_boxes, no_leaked_windows) are in tests/desktop/conftest.py."""

from __future__ import annotations

import numpy as np

from core.config import GeneratorConfig

TINY_CONFIG = GeneratorConfig(depth=3, ngf=4)


def scene_ids(h: int = 32, w: int = 64) -> np.ndarray:
    """A small street-like label map: sky, building, road."""
    ids = np.full((h, w), 7, dtype=np.uint8)  # road
    ids[: h // 4] = 23  # sky
    ids[h // 4 : h // 2] = 11  # building
    ids[h // 2 : h // 2 + 3, : w // 3] = 8  # sidewalk
    return ids
