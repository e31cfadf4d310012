"""The Qt binding itself must not corrupt the interpreter. PySide6-Essentials 6.12.0 on CPython
< 3.12 drops a reference to `True` on every `signal.emit()` made from Python (emit returns a
borrowed True): after some thousands of emits - minutes of painting, previews and training
events - the interpreter aborts with "bool_dealloc: deallocating True or False" (found by
scripts/soak.py). pyproject.toml excludes that release; this test fails on any binding with such
a leak. The emits run in a child interpreter, which such a binding may crash on its way out."""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
import gc
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    bare = Signal()
    carrying = Signal(object)

app = QCoreApplication([])
emitter = Emitter()
received = []
emitter.bare.connect(lambda: received.append(1))
emitter.carrying.connect(lambda value: received.append(1))
objects = {"True": True, "False": False, "None": None}
emitter.bare.emit()  # first emits may create (and free) lazily made objects: not counted
emitter.carrying.emit(None)
received.clear()
# No garbage collection inside the measured window: one that frees an unrelated object holding
# None would change None's count by itself (seen in full-suite runs: -1 over 100 emits).
gc.collect()
gc.disable()
before = {name: sys.getrefcount(obj) for name, obj in objects.items()}
for _ in range(50):
    emitter.bare.emit()
    emitter.carrying.emit(None)
after = {name: sys.getrefcount(obj) for name, obj in objects.items()}
gc.enable()
print(len(received), *(after[name] - before[name] for name in objects), flush=True)
"""


def test_emitting_signals_leaves_the_refcounts_of_true_false_and_none_alone() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    fields = done.stdout.split()
    assert len(fields) == 4, done.stderr[-2000:]
    received, *changes = (int(f) for f in fields)
    assert received == 100
    if sys.version_info >= (3, 12):
        return  # True, False and None are immortal there: such a leak cannot crash anything
    # One reference lost per emit is the 6.12.0 bug (-100 here). A correct binding leaves the
    # counts alone, up to an unrelated object dying inside the window (-1 for None was seen in
    # full-suite runs): a loss that grows with the emits is the defect, a stray one is not.
    assert all(change > -10 for change in changes), f"refcount change of True, False, None over 100 emits: {changes}"
