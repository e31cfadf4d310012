"""Soak the real app for N minutes and report how it held up (issue 12, section 4). Not a test.

    .venv/bin/python scripts/soak.py --minutes 10 [--warmup-minutes 1] [--out soak.json]

Without a display it re-runs itself under `xvfb-run` (a real X server, not Qt's offscreen
platform). It opens the main window with the bundled default model, starts a small training run on
synthetic streets in the training panel, and for the whole time drives the window the way a person
would, from the GUI thread's own event loop: brush strokes delivered one mouse event per frame
(~60 Hz) across the canvas, undo and redo, changes of class and tool, switching the output view
(side / overlay / swipe) and, every 45 s, loading a checkpoint (the run's newest one, or the
default model again).

It reports:
- RSS: at the end of the warm-up, its peak after it, and the growth between them;
- the longest GUI-thread stall: how late a 5 ms heartbeat timer fired (the time the event loop
  could not answer the user), with the count of stalls over 100 ms;
- live previews: requested (document changes), sent to the worker, shown, dropped as stale;
  training events and pictures the panel received;
- every warning printed: Python warnings, Qt warnings, log records of level WARNING and above, and
  the training run's own warnings.
Targets (issue 12): RSS growth < 200 MB after warm-up, no stall > 100 ms, no warning.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Run as a script from a checkout: the repository root on the path, so core/ imports.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
REPO = Path(__file__).resolve().parent.parent

HEARTBEAT_MS = 5
STALL_LIMIT_S = 0.100
RSS_TARGET_MB = 200.0
CHECKPOINT_EVERY_S = 45.0


def thread_schedstat() -> tuple[int, int] | None:
    """(ns on a CPU, ns waiting for one) of the calling thread (Linux schedstat), or None."""
    try:
        cpu, wait, _slices = Path("/proc/thread-self/schedstat").read_text().split()
        return int(cpu), int(wait)
    except (OSError, ValueError):
        return None


def rss_mb() -> float:
    """Resident set size now (Linux /proc; elsewhere the peak, which is all getrusage knows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Report:
    minutes: float
    warmup_minutes: float
    platform: str = ""
    rss_start_mb: float = 0.0
    rss_after_warmup_mb: float = 0.0
    rss_peak_after_warmup_mb: float = 0.0
    rss_end_mb: float = 0.0
    longest_stall_ms: float = 0.0
    stalls_over_100ms: int = 0
    stall_p99_ms: float = 0.0
    # Where the time of the stalls over 100 ms went (Linux schedstat of the GUI thread): running
    # our own code, waiting for a CPU (the machine's load), or neither (blocked: the GIL, a lock).
    stall_gui_cpu_ms: float = 0.0
    stall_runqueue_ms: float = 0.0
    stall_blocked_ms: float = 0.0
    longest_stall_split: str = ""
    heartbeats: int = 0
    strokes: int = 0
    undos: int = 0
    redos: int = 0
    view_switches: int = 0
    checkpoint_loads: int = 0
    preview_requests: int = 0
    previews_sent: int = 0
    previews_shown: int = 0
    previews_dropped: int = 0
    training_steps: int = 0
    training_pictures: int = 0
    training_outcome: str = ""
    warnings: list[str] = field(default_factory=list)
    # every stall over 100 ms: when (s after the start), how long, and how long after the last
    # checkpoint load it came (loads are the heaviest thing the user does)
    stalls: list[dict[str, float]] = field(default_factory=list)

    @property
    def stalls_near_checkpoint_load(self) -> int:
        return sum(1 for x in self.stalls if x["after_checkpoint_load_s"] < 3)

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_peak_after_warmup_mb - self.rss_after_warmup_mb

    def verdicts(self) -> dict[str, bool]:
        return {"RSS growth < 200 MB": self.rss_growth_mb < RSS_TARGET_MB,
                "no stall > 100 ms": self.stalls_over_100ms == 0,
                "no warning": not self.warnings}

    def markdown(self) -> str:
        rows = [
            ("duration", f"{self.minutes:g} min ({self.warmup_minutes:g} min warm-up), Qt platform {self.platform}"),
            ("RSS", f"{self.rss_start_mb:.0f} MB at start, {self.rss_after_warmup_mb:.0f} MB after warm-up, "
                    f"peak {self.rss_peak_after_warmup_mb:.0f} MB after it, {self.rss_end_mb:.0f} MB at the end"),
            ("RSS growth after warm-up", f"{self.rss_growth_mb:.0f} MB (target < {RSS_TARGET_MB:.0f} MB)"),
            ("longest GUI-thread stall", f"{self.longest_stall_ms:.0f} ms; {self.stalls_over_100ms} stalls over "
                                         f"100 ms; p99 {self.stall_p99_ms:.1f} ms ({self.heartbeats} heartbeats)"),
            ("stalls over 100 ms, where the time went", f"GUI thread computing {self.stall_gui_cpu_ms:.0f} ms, "
                                                        f"waiting for a CPU {self.stall_runqueue_ms:.0f} ms, "
                                                        f"blocked (GIL, locks) {self.stall_blocked_ms:.0f} ms; "
                                                        f"longest: {self.longest_stall_split}; "
                                                        f"{self.stalls_near_checkpoint_load} "
                                                        f"of them within 3 s of a checkpoint load"),
            ("driven", f"{self.strokes} strokes, {self.undos} undos, {self.redos} redos, {self.view_switches} "
                       f"view switches, {self.checkpoint_loads} checkpoint loads"),
            ("live previews", f"{self.preview_requests} requested, {self.previews_sent} computed, "
                              f"{self.previews_shown} shown, {self.previews_dropped} dropped as stale"),
            ("training in the panel", f"{self.training_steps} steps, {self.training_pictures} pictures, "
                                      f"{self.training_outcome}"),
            ("warnings", f"{len(self.warnings)}" + (": " + "; ".join(self.warnings[:5]) if self.warnings else "")),
        ]
        lines = ["| measure | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
        lines.append("")
        lines.append("Targets: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in self.verdicts().items()))
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup-minutes", type=float, default=1.0)
    parser.add_argument("--out", type=Path, help="also write the report as JSON here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if sys.platform == "linux" and not os.environ.get("DISPLAY") and not os.environ.get("ROADSTUDIO_SOAK_CHILD"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("soak: no display and no xvfb-run (apt-get install xvfb xauth)", file=sys.stderr)
            return 2
        env = {**os.environ, "ROADSTUDIO_SOAK_CHILD": "1"}
        env.pop("QT_QPA_PLATFORM", None)
        cmd = [xvfb, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, __file__, *(argv or sys.argv[1:])]
        return subprocess.run(cmd, env=env).returncode
    return _soak(args)


def _soak(args: argparse.Namespace) -> int:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as desktop.app.main does
    home = Path(tempfile.mkdtemp(prefix="roadstudio-soak-"))
    os.environ["ROADSTUDIO_HOME"] = str(home)  # settings, recovery file, runs: never the user's

    report = Report(minutes=args.minutes, warmup_minutes=args.warmup_minutes, rss_start_mb=rss_mb())
    seen: list[str] = report.warnings

    def on_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                   file: object = None, line: str | None = None) -> None:
        seen.append(f"{category.__name__}: {message} ({Path(filename).name}:{lineno})")

    warnings.showwarning = on_warning  # every Python warning printed, from any thread

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(f"log {record.levelname} {record.name}: {record.getMessage()}")

    logging.getLogger().addHandler(Collect(level=logging.WARNING))

    from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer, QtMsgType, qInstallMessageHandler
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from benchmarks.common import StallMeter, qt_app

    def on_qt_message(kind: QtMsgType, _context: object, message: str) -> None:
        if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg:
            seen.append(f"Qt {kind.name}: {message}")

    qInstallMessageHandler(on_qt_message)

    from desktop import settings

    settings.configure_application()
    app = qt_app([sys.argv[0]])
    report.platform = app.platformName()
    settings.isolate(home)

    from core.train.events import CanvasPreview, Failed, Finished, Sample, Step, Warning_
    from desktop.app import open_window
    from desktop.main_window import default_model_path
    from desktop.preview.worker import ModelSource

    window = open_window(None, None, "side", "cpu")
    window.resize(1500, 900)
    window.training_dock.show()
    rng = random.Random(args.seed)

    # --------------------------------------------------------------- the training run
    panel = window.training_panel
    form = panel.form
    form.synthetic_radio.setChecked(True)
    for spin, value in ((form.depth_spin, 6), (form.ngf_spin, 8), (form.ndf_spin, 8), (form.load_h, 72),
                        (form.load_w, 72), (form.crop_h, 64), (form.crop_w, 64), (form.batch_spin, 2),
                        (form.epochs_spin, 100000), (form.decay_spin, 0), (form.sample_spin, 20),
                        (form.checkpoint_spin, 50), (form.synthetic_count, 64)):
        spin.setValue(value)
    form.device_combo.setCurrentIndex(form.device_combo.findData("cpu"))
    form.set_run_name("soak")
    run_dir = panel.runs_dir() / "soak"
    ending = [False]

    def on_training_event(event: object) -> None:
        if isinstance(event, Step):
            report.training_steps = event.step
        elif isinstance(event, (Sample, CanvasPreview)):
            report.training_pictures += 1
        elif isinstance(event, Warning_):
            seen.append(f"training warning: {event.message}")
        elif isinstance(event, (Finished, Failed)):
            if ending[0] and isinstance(event, Finished):
                report.training_outcome = f"running until the end, then stopped at step {event.step}"
            else:
                report.training_outcome = f"{type(event).__name__} at step {event.step} during the soak"

    panel.event_emitted.connect(on_training_event)
    panel.failed.connect(lambda text: seen.append(f"training failed: {text}"))
    start_button = panel.start_button

    # --------------------------------------------------------------- counters
    preview = window.preview
    original_request = preview.request

    def counting_request() -> None:
        report.preview_requests += 1
        original_request()

    preview.request = counting_request  # type: ignore[method-assign]  # count the window's requests
    preview.preview_shown.connect(lambda *_: setattr(report, "previews_shown", report.previews_shown + 1))

    # --------------------------------------------------------------- heartbeat (stall meter)
    lateness: list[float] = []
    last_sched = [thread_schedstat()]
    warm = [False]
    longest = [0.0]

    def on_heartbeat(gap_ns: int) -> None:
        sched = thread_schedstat()
        late = gap_ns / 1e9 - HEARTBEAT_MS / 1000
        before, last_sched[0] = last_sched[0], sched
        if not warm[0]:
            return
        lateness.append(max(0.0, late))
        if late > STALL_LIMIT_S and sched is not None and before is not None:
            cpu_ms, wait_ms = (sched[0] - before[0]) / 1e6, (sched[1] - before[1]) / 1e6
            blocked_ms = max(0.0, gap_ns / 1e6 - cpu_ms - wait_ms)
            report.stall_gui_cpu_ms += cpu_ms
            report.stall_runqueue_ms += wait_ms
            report.stall_blocked_ms += blocked_ms
            report.stalls.append({"at_s": round(time.monotonic() - t0, 1), "ms": round(late * 1000),
                                  "after_checkpoint_load_s": round(time.monotonic() - last_checkpoint_load[0], 1)})
            if late > longest[0]:
                longest[0] = late
                report.longest_stall_split = (f"{gap_ns / 1e6:.0f} ms = {cpu_ms:.0f} computing + {wait_ms:.0f} "
                                              f"waiting for a CPU + {blocked_ms:.0f} blocked")

    # The meter's own gap list is not kept (counting=False): on_heartbeat keeps what the report needs.
    heartbeat = StallMeter(HEARTBEAT_MS, precise=True, counting=lambda: False, on_beat=on_heartbeat)
    heartbeat.start()

    # --------------------------------------------------------------- the user
    canvas = window.canvas
    palette_ids = [7, 8, 11, 21, 23, 24, 26, 17, 13]
    stroke: list[tuple[float, float]] = []
    pressed = [False]
    last_checkpoint_load = [time.monotonic()]
    use_run_next = [True]

    def send(kind: QEvent.Type, pos: tuple[float, float], button: Qt.MouseButton,
             buttons: Qt.MouseButton) -> None:
        local = QPointF(*pos)
        QApplication.sendEvent(canvas, QMouseEvent(kind, local, canvas.mapToGlobal(local), button, buttons,
                                                   Qt.KeyboardModifier.NoModifier))

    def new_stroke() -> None:
        w, h = max(50, canvas.width()), max(50, canvas.height())
        x, y = rng.uniform(20, w - 20), rng.uniform(20, h - 20)
        angle = rng.uniform(0, 2 * math.pi)
        n = rng.randint(8, 40)
        stroke.clear()
        for _ in range(n):
            angle += rng.uniform(-0.4, 0.4)
            x = min(w - 5, max(5, x + 12 * math.cos(angle)))
            y = min(h - 5, max(5, y + 12 * math.sin(angle)))
            stroke.append((x, y))

    def act() -> None:
        """One user action per frame: the next mouse event of a stroke, or something else."""
        left = Qt.MouseButton.LeftButton
        if stroke:
            pos = stroke.pop(0)
            if not pressed[0]:
                send(QEvent.Type.MouseButtonPress, pos, left, left)
                pressed[0] = True
            elif stroke:
                send(QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, left)
            else:
                send(QEvent.Type.MouseButtonRelease, pos, left, Qt.MouseButton.NoButton)
                pressed[0] = False
                report.strokes += 1
            return
        choice = rng.random()
        if choice < 0.55:
            if rng.random() < 0.3:
                canvas.set_current_class(rng.choice(palette_ids))
            if rng.random() < 0.1:
                canvas.set_tool(rng.choice(["brush", "eraser", "brush", "brush"]))
            new_stroke()
        elif choice < 0.70:
            window.actions_.undo.trigger()
            report.undos += 1
        elif choice < 0.80:
            window.actions_.redo.trigger()
            report.redos += 1
        elif choice < 0.86:
            window.set_view_mode(rng.choice(["side", "overlay", "swipe"]))
            report.view_switches += 1
        if time.monotonic() - last_checkpoint_load[0] > CHECKPOINT_EVERY_S:
            last_checkpoint_load[0] = time.monotonic()
            newest = run_dir / "checkpoints" / "last.safetensors"
            path = newest if use_run_next[0] and newest.exists() else default_model_path()
            use_run_next[0] = not use_run_next[0]
            window.load_model(ModelSource(path=path))
            report.checkpoint_loads += 1

    driver = QTimer()
    driver.timeout.connect(act)

    # --------------------------------------------------------------- schedule
    t0 = time.monotonic()
    warmup_s = args.warmup_minutes * 60
    total_s = args.minutes * 60
    rss_peak = [0.0]

    def on_second() -> None:
        elapsed = time.monotonic() - t0
        now_rss = rss_mb()
        if elapsed >= warmup_s and not warm[0]:
            warm[0] = True
            report.rss_after_warmup_mb = now_rss
            lateness.clear()
        if warm[0]:
            rss_peak[0] = max(rss_peak[0], now_rss)
        if elapsed >= total_s:
            driver.stop()
            heartbeat.stop()
            seconds.stop()
            loop.quit()  # a loop of our own: QApplication.quit() would close the window (and ask)

    seconds = QTimer()
    seconds.timeout.connect(on_second)

    def begin() -> None:
        if start_button.isEnabled():
            start_button.click()
        else:
            seen.append(f"training could not start: {panel.status_label.text()}")
        driver.start(16)
        seconds.start(1000)

    QTimer.singleShot(3000, begin)  # the window shown and the default model loaded first
    window.show()
    loop = QEventLoop()
    loop.exec()

    # --------------------------------------------------------------- shut down, report
    driver.stop()
    heartbeat.stop()
    seconds.stop()
    if pressed[0]:
        send(QEvent.Type.MouseButtonRelease, (10.0, 10.0), Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)
    report.previews_sent = len(preview.sent_versions)
    report.previews_dropped = max(0, report.previews_sent - report.previews_shown - int(preview.in_flight))
    report.rss_peak_after_warmup_mb = rss_peak[0]
    report.rss_end_mb = rss_mb()
    report.heartbeats = len(lateness)
    if lateness:
        ordered = sorted(lateness)
        report.longest_stall_ms = ordered[-1] * 1000
        report.stall_p99_ms = ordered[int(0.99 * (len(ordered) - 1))] * 1000
        report.stalls_over_100ms = sum(1 for v in lateness if v > STALL_LIMIT_S)
    ending[0] = True
    if panel.is_running:
        panel.stop_button.click()
    window.session.document.mark_saved()  # nothing to ask about on close
    window.shutdown()
    if not report.training_outcome:
        report.training_outcome = "still running at the end (stopped)"
    window.hide()
    shutil.rmtree(home, ignore_errors=True)

    print(report.markdown())
    if args.out is not None:
        data: dict[str, Any] = {**asdict(report), "rss_growth_mb": report.rss_growth_mb,
                                "verdicts": report.verdicts()}
        args.out.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
