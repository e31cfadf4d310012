"""core/ must run on headless machines: importing it (and building the whole CLI) never loads Qt."""

from __future__ import annotations

import json
import subprocess
import sys

MODULES = ["core", "core.cli", "core.train", "core.data", "core.render.infer", "core.weights.checkpoints",
           "core.weights.reference_import", "core.weights.onnx_export"]

_PROBE = """
import importlib, json, sys
def qt():
    return sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'desktop'))
found = {}
for name in MODULES:
    importlib.import_module(name)
    if name == 'core.cli':
        importlib.import_module('core.cli').build_parser()  # imports every sub-command module
    found[name] = qt()
print(json.dumps(found))
"""


def test_importing_core_loads_no_qt() -> None:
    code = f"MODULES = {MODULES!r}\n" + _PROBE
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert list(found) == MODULES
    assert all(v == [] for v in found.values()), f"Qt/desktop modules loaded: {found}"
