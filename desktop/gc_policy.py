"""Keep Python's full garbage collections short, so they never freeze the GUI thread.

A full (generation 2) collection walks every tracked object of the process and holds the GIL
while it does: with PySide6, torch and a loaded model that is over 100 ms (measured while
scrubbing checkpoints: one 107 ms collection in the compare worker was the longest GUI stall),
and it happens on whichever thread allocates at the time. Most of those objects are made at
start-up (modules, classes, the first model) and live as long as the app. `gc.freeze()` moves
them to a permanent generation that collections skip; objects made later are collected as
before. Called once, when the first model has loaded (by then torch and the model code are
imported), from the GUI thread.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_objects() -> bool:
    """Exclude every object alive now from future collections (once per process). Returns
    whether this call froze them."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.freeze()
    return True
