"""Train on a folder of photos alone (issue 19 §5): label them with the segmenter first.

The panel accepts a folder that holds photos only (`photos_only_count` says how many, from the
dataset probe). When such a run starts, its config points at `<run>/autolabelled` (the `folders`
layout core.photo_labels.autolabel writes, direction BtoA), and the training worker runs
`autolabel_then_train`: it segments the photos into that folder (core.photo_labels.autolabel, the bundled
19-class segmenter), reporting `AutolabelProgress` after every photo, names the photos that
could not be used in one warning, then trains on the result like any dataset. Resuming such a run
trains on the labelled folder as it is (no second labelling).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.config import RunConfig
from core.errors import BadFileError, UserError
from core.train.control import TrainingControl
from core.train.events import Event, Warning_

#: Sub-folder of the run where the photos and their machine-made labels go.
AUTOLABEL_FOLDER = "autolabelled"
#: Photos looked at to decide that a folder holds photos (not label maps or A|B pairs).
_SAMPLED = 3


@dataclass(frozen=True)
class AutolabelProgress:
    """A panel-side event (not the engine's): `done` of `total` photos labelled."""

    done: int
    total: int
    kind: str = "autolabel"


class _StoppedError(Exception):
    pass


def photos_only_count(folder: Path) -> int:
    """How many photos `folder` holds directly, when it is a folder of photos and nothing else
    (no dataset layout, the images sampled are photos, not label maps); 0 otherwise."""
    from core.data.files import list_images
    from core.io.imageio import NotALabelMapError, read_label_map

    try:
        images = list_images(folder)
    except OSError:
        return 0
    photos = 0
    for image in images[:_SAMPLED]:
        try:
            read_label_map(image)
        except NotALabelMapError:
            photos += 1
        except BadFileError:
            continue  # a broken file: autolabel names it later; it decides nothing here
        else:
            return 0  # a label map (or an A|B pair) among them: not a folder of photos
    return len(images) if photos else 0


def photos_config(cfg: RunConfig, run_dir: Path) -> RunConfig:
    """The run's config with its data pointed at the folder the photos are labelled into."""
    data = replace(cfg.data, path=str(run_dir / AUTOLABEL_FOLDER), format="folders", direction="BtoA")
    return replace(cfg, data=data)


def _engine_train(*args: Any, **kwargs: Any) -> Iterator[Event]:
    from core.train.loop import train

    return train(*args, **kwargs)


def autolabel_then_train(photos: Path, train_fn: Any = None, segmenter: str | Path | None = None):  # noqa: ANN201
    """A TrainFn (as TrainingWorker calls it) that labels `photos` into the run first."""

    def run(cfg: RunConfig, run_dir: Path, control: TrainingControl, **kwargs: Any) -> Iterator[Event]:
        out = Path(cfg.data.path)
        if not kwargs.get("resume"):
            yield from _autolabel(photos, out, control, segmenter)
            if control.stop_requested:
                return
        yield from (train_fn or _engine_train)(cfg, run_dir, control, **kwargs)

    return run


def _autolabel(photos: Path, out: Path, control: TrainingControl,
               segmenter: str | Path | None) -> Iterator[Any]:
    """Runs core.photo_labels.autolabel on a helper thread and yields its progress here, so the worker can
    forward it while the photos are segmented; Stop ends it after the current photo."""
    from core.photo_labels.autolabel import autolabel
    from core.photo_labels.segment import DEFAULT_SEGMENTER, PhotoSegmenter

    updates: queue.Queue[tuple[int, int]] = queue.Queue()
    outcome: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        updates.put((done, total))
        if control.stop_requested:
            raise _StoppedError

    def work() -> None:
        try:
            seg = PhotoSegmenter(segmenter or DEFAULT_SEGMENTER)
            outcome["report"] = autolabel(photos, out, seg, progress=progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the worker's thread below
            outcome["error"] = exc

    helper = threading.Thread(target=work, name="autolabel", daemon=True)
    helper.start()
    yield AutolabelProgress(0, 0)
    while helper.is_alive() or not updates.empty():
        try:
            done, total = updates.get(timeout=0.1)
        except queue.Empty:
            continue
        yield AutolabelProgress(done, total)
    helper.join()
    error = outcome.get("error")
    if isinstance(error, _StoppedError):
        return
    if error is not None:
        raise error
    report = outcome["report"]
    if report.failed:
        named = "; ".join(f"{p.name}: {reason.split(': ', 1)[-1]}" for p, reason in report.failed[:5])
        more = f" and {len(report.failed) - 5} more" if len(report.failed) > 5 else ""
        yield Warning_(step=0, message=f"{len(report.failed)} photo(s) skipped ({named}{more})")
    if not report.written:
        raise UserError(f"{photos}: none of the {len(report.failed)} photos could be labelled "
                        f"(first: {report.failed[0][1] if report.failed else 'no photos'})")
