"""OpenMP settings for the command line, chosen before torch is imported.

PyTorch's CPU kernels run on an OpenMP thread team (GNU libgomp in the pip wheels). Two settings
decide what a busy machine costs (issue 18; measurements in docs/performance.md):

- Wait policy. By default an idle team member busy-waits (spins) at every barrier before it
  sleeps. Where another process holds a core, the spinning members take CPU from the member that
  still has work: `roadstudio-cli train` and `infer` lost 1.7× with one busy core (up to 8× beside
  the app's training thread). `OMP_WAIT_POLICY=PASSIVE` makes waiting members sleep.
- Thread count. A team is as slow as its slowest member: a member that shares its core with
  another process's work holds up every operator of the step. So the team gets one thread per
  core that is free when the command starts: the physical cores this process may use, minus the
  busy ones (the 1-minute load average, rounded), at least 1. On a quiet machine that is
  PyTorch's own default (one per physical core); with one core busy the command runs on the
  others at their full speed, so the busy core costs no more than itself.

A user's explicit setting always wins: nothing here changes an OMP_* variable that is set.
This module must not import torch (it has to run first).
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from pathlib import Path

WAIT_POLICY = "PASSIVE"


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (Linux: /proc/cpuinfo's
    (physical id, core id) pairs; elsewhere the logical CPU count)."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    try:
        cores: set[tuple[str, str]] = set()
        cpu = phys = core = None
        for line in Path("/proc/cpuinfo").read_text().splitlines() + [""]:
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "processor":
                cpu = int(value)
            elif key == "physical id":
                phys = value
            elif key == "core id":
                core = value
            elif not key and cpu is not None:  # end of one processor's block
                if cpu in allowed:
                    cores.add((phys or "0", core if core is not None else f"cpu{cpu}"))
                cpu = phys = core = None
        if cores:
            return len(cores)
    except (OSError, ValueError):
        pass
    return max(1, len(allowed))


def free_core_threads(cores: int, load_1min: float) -> int:
    """One thread per core not taken by other work: cores - round(load), at least 1."""
    return max(1, min(cores, cores - round(load_1min)))


def configure_openmp(environ: MutableMapping[str, str] | None = None, *,
                     load: Callable[[], float] | None = None, cores: Callable[[], int] = physical_cores
                     ) -> dict[str, str]:
    """Set OMP_WAIT_POLICY=PASSIVE and OMP_NUM_THREADS (free cores) where the user set neither;
    returns what was set (name -> value). Must run before torch (or anything that loads libgomp)
    is imported to take effect."""
    env = os.environ if environ is None else environ
    changed: dict[str, str] = {}
    if "OMP_WAIT_POLICY" not in env:
        changed["OMP_WAIT_POLICY"] = WAIT_POLICY
    if "OMP_NUM_THREADS" not in env:
        try:
            load_1min = load() if load is not None else os.getloadavg()[0]
        except (OSError, AttributeError):  # no load average here (Windows): keep PyTorch's default
            load_1min = None
        if load_1min is not None:
            changed["OMP_NUM_THREADS"] = str(free_core_threads(cores(), load_1min))
    env.update(changed)
    return changed


def spinning_allowed(environ: MutableMapping[str, str] | None = None) -> bool:
    """False when OpenMP waits passively: other thread pools (ONNX Runtime's) should not spin
    either, for the same reason."""
    env = os.environ if environ is None else environ
    return env.get("OMP_WAIT_POLICY", "").strip().upper() != "PASSIVE"
