"""OpenMP settings for the command line, chosen before torch is imported.

PyTorch's CPU kernels run on an OpenMP thread team (GNU libgomp in the pip wheels). By default an
idle team member busy-waits (spins) for a while at every barrier before it sleeps. On a machine
where another process holds a core, the spinning members take CPU from the one member that
still has work, and every parallel region ends late: `roadstudio-cli train` and `infer` lost
1.7× with one busy core (up to 8× beside the app's own training thread; issue 18).
`OMP_WAIT_POLICY=PASSIVE` makes waiting members sleep; measured in docs/performance.md
("OpenMP wait policy"), it costs nothing measurable on a quiet machine.

The thread count stays OpenMP's / PyTorch's default (one per physical core): with passive
waiting, two threads on two cores of which one is busy still finish at least as fast as one
thread (the scheduler gives the team the free core and a share of the busy one).

A user's explicit setting always wins: nothing here overrides an OMP_* variable that is set.
This module must not import torch (it has to run first).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

WAIT_POLICY = "PASSIVE"


def configure_openmp(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set OMP_WAIT_POLICY=PASSIVE unless the user set it; returns what was set (name -> value).
    Must run before torch (or anything that loads libgomp) is imported to take effect."""
    env = os.environ if environ is None else environ
    changed: dict[str, str] = {}
    if "OMP_WAIT_POLICY" not in env:
        env["OMP_WAIT_POLICY"] = WAIT_POLICY
        changed["OMP_WAIT_POLICY"] = WAIT_POLICY
    return changed


def spinning_allowed(environ: MutableMapping[str, str] | None = None) -> bool:
    """False when OpenMP waits passively: other thread pools (ONNX Runtime's) should not spin
    either, for the same reason."""
    env = os.environ if environ is None else environ
    return env.get("OMP_WAIT_POLICY", "").strip().upper() != "PASSIVE"
