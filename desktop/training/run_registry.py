"""One place that knows every run: the list the history, the compare panel's Run picker and the
Run & checkpoints tab all show (issue 20 §1).

A run is any folder with a config.toml (desktop.training.run_files). Runs are found in
- the runs folder (the training set-up's *Runs folder*),
- every folder a run or one of its checkpoints was opened from (remembered), and
- folders added with *Open run folder…* (a folder of runs, or one run).

The list is re-read every few seconds on a pool thread (a few stats and the tail of each
metrics.jsonl; nothing on the GUI thread), so a run started with `roadstudio-cli train` shows up
while it trains, and `run_updated` tells the views which runs wrote something new. With a
settings store (the main window's), the runs folder and the remembered folders survive a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from desktop.training.run_files import RunSummary, list_runs_in, run_folder_of
from desktop.tasks import TaskRunner

POLL_MS = 2000
#: A remembered folder list longer than this drops its oldest entries.
MAX_PLACES = 24
RUNS_DIR_KEY = "runs/folder"
PLACES_KEY = "runs/places"

Store = Callable[[], QSettings]


class RunRegistry(QObject):
    runs_changed = Signal()  # the list (or a run's line in it) changed: re-read runs()
    run_updated = Signal(str)  # a run folder whose files changed (new metrics, checkpoints, end)
    place_added = Signal(str)  # a folder now searched for runs

    def __init__(self, runs_dir: Path, parent: QObject | None = None, *, store: Store | None = None,
                 poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self._store = store
        self._runs_dir = Path(runs_dir)
        self._places: list[Path] = []
        if store is not None:
            saved = store().value(RUNS_DIR_KEY)
            if saved:
                self._runs_dir = Path(str(saved))
            self._places = [Path(p) for p in _as_list(store().value(PLACES_KEY))]
        self._runs: list[RunSummary] = []
        self._listed = False  # a first listing has arrived
        self._tasks = TaskRunner(self)
        self._in_flight = False
        self._again = False
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.refresh)
        if poll_ms > 0:
            self._timer.start()
        self.refresh()

    # ------------------------------------------------------------------ places
    def runs_dir(self) -> Path:
        return self._runs_dir

    def set_runs_dir(self, folder: Path) -> None:
        """The training set-up's runs folder changed (remembered with a store)."""
        folder = Path(folder).expanduser()
        if folder == self._runs_dir:
            return
        self._runs_dir = folder
        if self._store is not None:
            self._store().setValue(RUNS_DIR_KEY, str(folder))
        self.refresh()

    def places(self) -> list[Path]:
        """Every folder searched: the runs folder first, then the remembered ones."""
        return [self._runs_dir, *[p for p in self._places if p != self._runs_dir]]

    def add_place(self, folder: Path) -> None:
        """Search `folder` too from now on (a folder of runs, or one run)."""
        folder = Path(folder).expanduser()
        if folder == self._runs_dir or folder in self._places:
            self.refresh()
            return
        self._places = [folder, *self._places][:MAX_PLACES]
        if self._store is not None:
            self._store().setValue(PLACES_KEY, [str(p) for p in self._places])
        self.place_added.emit(str(folder))
        self.refresh()

    def forget_place(self, folder: Path) -> None:
        folder = Path(folder)
        if folder in self._places:
            self._places.remove(folder)
            if self._store is not None:
                self._store().setValue(PLACES_KEY, [str(p) for p in self._places])
            self.refresh()

    def remember(self, path: Path, then: Callable[[Path | None], None] | None = None) -> None:
        """A run folder or a file in one (a checkpoint) was opened: remember the folder the run
        lives in, so it and its sibling runs are listed from now on. Resolved off the GUI
        thread; `then(run folder or None)` is called on the GUI thread afterwards."""
        path = Path(path)

        def found(run: Path | None) -> None:
            if run is not None:
                self.add_place(run.parent if run.parent != run else run)
            if then is not None:
                then(run)

        self._tasks.submit(lambda: run_folder_of(path), found, lambda _exc: then(None) if then else None)

    # ------------------------------------------------------------------ the list
    def runs(self) -> list[RunSummary]:
        return list(self._runs)

    @property
    def listed(self) -> bool:
        """A first listing has arrived (before it, runs() is empty because nothing was read yet)."""
        return self._listed

    def find(self, run_dir: Path) -> RunSummary | None:
        run_dir = Path(run_dir)
        return next((r for r in self._runs if r.path == run_dir), None)

    def refresh(self) -> None:
        """Re-read the places on a pool thread (at most one listing at a time; a refresh asked
        for meanwhile runs once the current one is in)."""
        if self._in_flight:
            self._again = True
            return
        self._in_flight = True
        places = self.places()
        self._tasks.submit(lambda: list_runs_in(places), self._on_listed, self._on_list_failed)

    def set_polling(self, on: bool) -> None:
        if on:
            self._timer.start()
        else:
            self._timer.stop()

    def shutdown(self) -> None:
        self._timer.stop()
        self._tasks.wait()

    def _on_listed(self, runs: list[RunSummary]) -> None:
        self._in_flight = False
        old = {r.path: r for r in self._runs}
        first = not self._listed
        self._listed = True
        changed = [r for r in runs if old.get(r.path) != r]
        gone = set(old) - {r.path for r in runs}
        self._runs = runs
        if changed or gone or first:
            self.runs_changed.emit()
        for run in changed:
            if run.path in old:
                self.run_updated.emit(str(run.path))
        if self._again:
            self._again = False
            self.refresh()

    def _on_list_failed(self, _exc: BaseException) -> None:
        self._in_flight = False
        if self._again:
            self._again = False
            self.refresh()


def _as_list(value: object) -> list[str]:
    """QSettings returns a one-item list as a plain string (INI format), and None when unset."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, Iterable) else [str(value)]
