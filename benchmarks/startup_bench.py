"""The app's first minute: how long until the window is up, and until the first rendered image.

    python -m benchmarks.startup_bench [--repeats 3] [--quick] [--baseline PATH]

Each launch is a fresh process (`python benchmarks/startup_bench.py --child`) that starts the app
exactly as `roadstudio` does (desktop.app.open_window: window, sample scene, default model) and
prints wall-clock stamps for: imports done, window up (the first event-loop turn after show(),
when its first paint has been delivered), model loaded, first image on screen. Times are seconds
from the moment the parent started the process, so interpreter start-up is included.

- cold: a fresh settings home and an empty fast-path cache (the ONNX model is exported again),
  as on a first launch after installing;
- warm: the same home and cache again (what every later launch sees).

`--baseline PATH` also times another checkout with this same script (e.g. `git archive` of the
commit before a change, unpacked), its launches interleaved with this checkout's so both see the
same machine load; PATH must hold core/ and desktop/. Prints a markdown table (median of
`--repeats` launches per row, with the ratio to the baseline). Never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parent.parent
CHILD_TIMEOUT_S = 240


def child() -> int:
    """One app start; prints one JSON line of time.time() stamps."""
    stamps: dict[str, float] = {}
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop import app as app_module, settings

    settings.configure_application()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    stamps["qt"] = time.time()
    import desktop.main_window  # noqa: F401 - what open_window imports first, timed on its own

    stamps["imports"] = time.time()
    window = app_module.open_window(None)
    stamps["window_built"] = time.time()

    def on_window_up() -> None:
        stamps["window"] = time.time()

    def on_loaded(*_args: object) -> None:
        stamps.setdefault("model_loaded", time.time())

    def on_image(_version: int) -> None:
        stamps.setdefault("image", time.time())
        QTimer.singleShot(0, app.quit)

    QTimer.singleShot(0, on_window_up)  # runs once show()'s expose and first paint are handled
    window.preview.model_loaded.connect(on_loaded)
    window.preview_displayed.connect(on_image)
    QTimer.singleShot(CHILD_TIMEOUT_S * 1000, app.quit)
    app.exec()
    window.shutdown()
    print("STAMPS " + json.dumps(stamps), flush=True)
    return 0 if "image" in stamps else 1


def launch(repo: Path, home: Path, cache: Path) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               ROADSTUDIO_HOME=str(home), ROADSTUDIO_CACHE_DIR=str(cache), PYTHONPATH=str(repo))
    env.pop("ROADSTUDIO_INFER_BACKEND", None)  # the app's own choice, as a user gets it
    start = time.time()
    done = subprocess.run([sys.executable, str(HERE), "--child"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=CHILD_TIMEOUT_S + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("STAMPS ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"app start failed (exit {done.returncode}): {done.stderr[-1500:]}")
    return {k: v - start for k, v in json.loads(line[len("STAMPS "):]).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one launch per row")
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout to time alongside")
    args = parser.parse_args(argv)
    if args.child:
        return child()
    repeats = 1 if args.quick else max(1, args.repeats)
    repos = {"this checkout": REPO}
    if args.baseline is not None:
        repos = {"baseline": args.baseline.resolve(), **repos}
    rows: dict[tuple[str, str], list[dict[str, float]]] = {(n, k): [] for n in repos for k in ("cold", "warm")}
    loads = []
    with tempfile.TemporaryDirectory(prefix="roadstudio-startup-") as tmp:
        for i in range(repeats):
            for name, repo in repos.items():  # interleaved: both see the same load
                home, cache = Path(tmp) / f"home-{name}-{i}", Path(tmp) / f"cache-{name}-{i}"
                for kind in ("cold", "warm"):
                    print(f"... launch {i + 1}/{repeats}, {name}, {kind}", file=sys.stderr, flush=True)
                    loads.append(os.getloadavg()[0])
                    rows[(name, kind)].append(launch(repo, home, cache))
    print(f"{repeats} launch(es) per row; median seconds from process start; load average during the runs "
          f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs\n")
    print("| checkout | start | imports done | window up | model loaded | first image | first image × baseline |")
    print("|---|---|---|---|---|---|---|")
    keys = ("imports", "window", "model_loaded", "image")
    medians = {row: {k: statistics.median(r[k] for r in runs) for k in keys} for row, runs in rows.items()}
    for (name, kind), med in medians.items():
        base = medians.get(("baseline", kind))
        ratio = f"{med['image'] / base['image']:.2f}" if base is not None else "–"
        print(f"| {name} | {kind} | {med['imports']:.2f} | {med['window']:.2f} | {med['model_loaded']:.2f} | "
              f"{med['image']:.2f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
