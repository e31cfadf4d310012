"""Cooperative, thread-safe run control. The loop checks it between steps, so pause, resume and
stop take effect at step boundaries and never leave a half-done update."""

from __future__ import annotations

import threading

import numpy as np


class TrainingControl:
    def __init__(self) -> None:
        self._run = threading.Event()
        self._run.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._preview_labels: np.ndarray | None = None

    # --- called from any thread (GUI, signal handler) ---
    def pause(self) -> None:
        self._run.clear()

    def resume(self) -> None:
        self._run.set()

    def stop(self) -> None:
        """Ask the loop to save a checkpoint and finish with reason "stopped"."""
        self._stop.set()
        self._run.set()  # wake a paused loop so it can stop

    def set_preview_labels(self, ids: np.ndarray | None) -> None:
        """Label ids (uint8 H×W) to render with the training weights every sample interval."""
        with self._lock:
            self._preview_labels = None if ids is None else ids.copy()

    # --- called by the loop ---
    @property
    def paused(self) -> bool:
        return not self._run.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; True when running (or stopping)."""
        return self._run.wait(timeout)

    def preview_labels(self) -> np.ndarray | None:
        with self._lock:
            return self._preview_labels
