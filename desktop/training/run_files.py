"""Reading a run folder for the panel: metrics history, checkpoints, samples, the runs list.

Plain Python (no Qt, no torch) so it can run in a worker thread and be tested on its own. The
layout is the engine's (DESIGN.md "Files a run leaves"): config.toml, metrics.jsonl (one event
dict per line, key "kind"), checkpoints/step_XXXXXXX.safetensors (+ .pt), last.*, best.*,
samples/step_XXXXXXX.png. Runs started from the CLI look exactly the same, so the panel reopens
them too.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.toml"
METRICS_NAME = "metrics.jsonl"
LOSS_KEYS = ("G_GAN", "G_L1", "D_real", "D_fake")
_STEP_FILE = re.compile(r"step_(\d+)\.(safetensors|png)$")


@dataclass(frozen=True)
class RunSummary:
    """One entry of the run history list."""

    path: Path
    name: str
    modified: float  # mtime of the newest of config.toml / metrics.jsonl, for sorting
    last_step: int | None  # from the newest training state, when known cheaply
    resumable: bool  # a full training state (last.pt) exists
    status: str = ""  # "training", "finished", "failed", "stopped" or "not started" (run_status)
    logged_step: int | None = None  # the newest step metrics.jsonl names (moves while it trains)


@dataclass(frozen=True)
class CheckpointInfo:
    step: int
    weights_path: Path  # .safetensors, what "Use in canvas" loads
    state_path: Path | None  # .pt, present for resumable checkpoints
    label: str  # "step 1200", "last", "best"


@dataclass
class RunHistory:
    """Everything the monitor shows about a finished or running run, read from its files."""

    run_dir: Path
    steps: list[int] = field(default_factory=list)
    losses: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in LOSS_KEYS})
    validations: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # CheckpointSaved dicts
    warnings: list[dict[str, Any]] = field(default_factory=list)
    started: dict[str, Any] | None = None  # the latest Started dict
    finished: dict[str, Any] | None = None  # the latest Finished / Failed dict
    latest_sample: Path | None = None
    bad_lines: int = 0  # lines of metrics.jsonl that were not valid JSON (a killed writer)


def is_run_dir(path: Path) -> bool:
    return (path / CONFIG_NAME).is_file()


#: A run whose metrics.jsonl has not changed for this long, and that logged no end, is "stopped"
#: (killed, or paused for long) rather than "training".
LIVE_WINDOW_S = 120.0
_TAIL_BYTES = 8192


def list_runs(runs_dir: Path) -> list[RunSummary]:
    """Every sub-folder of runs_dir holding a config.toml, newest first. A missing folder is empty."""
    try:
        children = [p for p in runs_dir.iterdir() if p.is_dir()]
    except OSError:
        return []
    runs = [summarize_run(child) for child in children if is_run_dir(child)]
    runs.sort(key=lambda r: r.modified, reverse=True)
    return runs


def list_runs_in(places: list[Path]) -> list[RunSummary]:
    """The runs of several places, newest first, each run once. A place is a folder of runs (its
    sub-folders with a config.toml) or itself a run folder."""
    found: dict[Path, RunSummary] = {}
    for place in places:
        if is_run_dir(place):
            found.setdefault(place, summarize_run(place))
        for run in list_runs(place):
            found.setdefault(run.path, run)
    return sorted(found.values(), key=lambda r: r.modified, reverse=True)


def run_folder_of(path: Path) -> Path | None:
    """The run a file or folder belongs to: the folder itself, or an ancestor holding a config.toml
    (a checkpoint is <run>/checkpoints/step_N.safetensors). None when it is in no run."""
    path = Path(path)
    for candidate in [path, *path.parents][:4]:  # the run, checkpoints/, a file: never further up
        if candidate.is_dir() and is_run_dir(candidate):
            return candidate
    return None


def summarize_run(run_dir: Path) -> RunSummary:
    """The history list's line for one run: cheap (a few stats and the tail of metrics.jsonl)."""
    metrics_mtime = _mtime(run_dir / METRICS_NAME)
    status, logged = run_status(run_dir, metrics_mtime)
    return RunSummary(
        path=run_dir,
        name=run_dir.name,
        modified=max(_mtime(run_dir / CONFIG_NAME), metrics_mtime),
        last_step=_newest_step(run_dir / "checkpoints"),
        resumable=(run_dir / "checkpoints" / "last.pt").is_file(),
        status=status,
        logged_step=logged,
    )


def run_status(run_dir: Path, metrics_mtime: float | None = None, now: float | None = None) -> tuple[str, int | None]:
    """(status, newest logged step) from the last lines of metrics.jsonl, without reading it all."""
    import time

    path = run_dir / METRICS_NAME
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _TAIL_BYTES))
            tail = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return "not started", None
    last_kind, step = None, None
    for line in reversed(tail.splitlines()[1:] if size > _TAIL_BYTES else tail.splitlines()):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line, or the cut-off first one
        if not isinstance(event, dict):
            continue
        if last_kind is None:
            last_kind = event.get("kind")
        if step is None and isinstance(event.get("step"), int):
            step = event["step"]
        if last_kind is not None and step is not None:
            break
    if last_kind == "finished":
        return "finished", step
    if last_kind == "failed":
        return "failed", step
    mtime = metrics_mtime if metrics_mtime is not None else _mtime(path)
    if last_kind is None and step is None:
        return "not started", None
    live = (now if now is not None else time.time()) - mtime < LIVE_WINDOW_S
    return ("training" if live else "stopped"), step


def read_history(run_dir: Path) -> RunHistory:
    """Parse metrics.jsonl (tolerating a torn last line) and find the newest sample image."""
    history = RunHistory(run_dir=run_dir)
    metrics = run_dir / METRICS_NAME
    try:
        with metrics.open("r", encoding="utf-8") as fh:
            for line in fh:
                _add_line(history, line)
    except FileNotFoundError:
        pass
    history.latest_sample = _newest_sample(run_dir / "samples")
    return history


def _add_line(history: RunHistory, line: str) -> None:
    line = line.strip()
    if not line:
        return
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        history.bad_lines += 1
        return
    if not isinstance(event, dict):
        history.bad_lines += 1
        return
    kind = event.get("kind")
    if kind == "step":
        step = event.get("step")
        losses = event.get("losses") or {}
        if not isinstance(step, int) or not isinstance(losses, dict):
            history.bad_lines += 1
            return
        if history.steps and step <= history.steps[-1]:
            # A resumed run replays from its checkpoint: later lines win, so drop the overlap.
            _truncate_after(history, step)
        history.steps.append(step)
        for key in LOSS_KEYS:
            value = losses.get(key)
            history.losses[key].append(float(value) if isinstance(value, (int, float)) else float("nan"))
    elif kind == "validation":
        history.validations.append(event)
    elif kind == "checkpoint":
        history.checkpoints.append(event)
    elif kind == "warning":
        history.warnings.append(event)
    elif kind == "started":
        history.started = event
        history.finished = None
    elif kind in ("finished", "failed"):
        history.finished = event


def _truncate_after(history: RunHistory, step: int) -> None:
    import bisect

    keep = bisect.bisect_left(history.steps, step)
    del history.steps[keep:]
    for key in LOSS_KEYS:
        del history.losses[key][keep:]


def list_checkpoints(run_dir: Path) -> list[CheckpointInfo]:
    """Step checkpoints (oldest first) followed by last and best, as they exist on disk."""
    folder = run_dir / "checkpoints"
    found: list[CheckpointInfo] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    for name in names:
        match = _STEP_FILE.match(name)
        if match and match.group(2) == "safetensors":
            state = folder / name.replace(".safetensors", ".pt")
            found.append(CheckpointInfo(int(match.group(1)), folder / name,
                                        state if state.is_file() else None, f"step {int(match.group(1))}"))
    found.sort(key=lambda c: c.step)
    for special in ("last", "best"):
        weights = folder / f"{special}.safetensors"
        if weights.is_file():
            state = folder / f"{special}.pt"
            step = found[-1].step if special == "last" and found else -1
            found.append(CheckpointInfo(step, weights, state if state.is_file() else None, special))
    return found


def _newest_step(folder: Path) -> int | None:
    try:
        steps = [int(m.group(1)) for n in os.listdir(folder) if (m := _STEP_FILE.match(n))]
    except OSError:
        return None
    return max(steps) if steps else None


def _newest_sample(folder: Path) -> Path | None:
    try:
        steps = {n: m for n in os.listdir(folder) if (m := _STEP_FILE.match(n)) and n.endswith(".png")}
    except OSError:
        return None
    if not steps:
        return None
    return folder / max(steps, key=lambda n: int(steps[n].group(1)))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
