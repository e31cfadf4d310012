"""What every benchmark script reports the same way: the machine it ran on and p95."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import torch


def machine() -> dict[str, Any]:
    """CPU model, core and thread counts, versions and the 1-minute load average (a load above
    the CPU count means other processes competed for the cores and timings are inflated)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import onnxruntime

        ort = onnxruntime.__version__
    except ImportError:
        ort = "missing"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "onnxruntime": ort, "isa": torch.backends.cpu.get_cpu_capability(),
            "gpu": gpu, "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}",
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
