"""Real faults for tests: a small file system that can be filled up (disk full), a folder made
read-only under a running program.

Where the machine allows it (root with `mount`), these are real: a tiny tmpfs filled with a filler
file until the kernel answers ENOSPC, and a read-only bind mount over the folder (root ignores
permission bits, so chmod would not stop it). Elsewhere: an injected ENOSPC for every atomic write
(core.io.atomic) under the folder, and chmod a-w.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import core.io.atomic


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


def _run(*cmd: str) -> bool:
    return subprocess.run(cmd, capture_output=True, text=True).returncode == 0


class SmallDisk:
    """A folder on a small file system of its own. fill() uses up every free byte; free() gives
    the space back."""

    def __init__(self, path: Path, real: bool) -> None:
        self.path = path
        self.real = real
        self.full = False
        self._filler = path / ".filler"

    def fill(self) -> None:
        self.full = True
        if not self.real:
            return
        with open(self._filler, "ab", buffering=0) as fh:
            for chunk in (1 << 20, 1 << 16, 1 << 12, 1):  # down to the last byte of the last page
                block = b"\0" * chunk
                while True:
                    try:
                        fh.write(block)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break

    def free(self) -> None:
        self.full = False
        if self.real:
            self._filler.unlink(missing_ok=True)


@contextlib.contextmanager
def small_disk(base: Path, monkeypatch: pytest.MonkeyPatch, size_mb: int = 16) -> Iterator[SmallDisk]:
    path = base / "small-disk"
    path.mkdir(parents=True)
    real = _can_mount() and _run("mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0777", "tmpfs", str(path))
    disk = SmallDisk(path, real)
    if not real:
        _inject_enospc(disk, monkeypatch)
    try:
        yield disk
    finally:
        if real and not _run("umount", str(path)):
            _run("umount", "-l", str(path))  # a file still open (a thread being joined): detach it


def _inject_enospc(disk: SmallDisk, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every atomic write under the disk's folder fails with ENOSPC while it is "full"."""
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: object, dir: str | os.PathLike[str] | None = None, **kwargs: object):  # noqa: A002 - tempfile.mkstemp's own name
        if disk.full and dir is not None and Path(dir).resolve().is_relative_to(disk.path.resolve()):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_mkstemp(*args, dir=dir, **kwargs)  # type: ignore[call-overload]  # passes mkstemp's own arguments on

    monkeypatch.setattr(core.io.atomic, "tempfile", types.SimpleNamespace(mkstemp=mkstemp))


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallDisk]:
    with small_disk(tmp_path, monkeypatch) as d:
        yield d


def make_read_only(folder: Path) -> Callable[[], None]:
    """Make `folder` refuse new files from now on (a read-only bind mount as root, chmod a-w
    otherwise). Returns the undo. Files already open for writing stay writable, as on a real
    remount."""
    if _can_mount() and _run("mount", "--bind", str(folder), str(folder)):
        def unmount() -> None:
            if not _run("umount", str(folder)):
                _run("umount", "-l", str(folder))

        if _run("mount", "-o", "remount,ro,bind", str(folder)):
            return unmount
        unmount()
    modes = {}
    for d in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        modes[d] = d.stat().st_mode
        d.chmod(modes[d] & ~0o222)

    def undo() -> None:
        for d, mode in modes.items():
            d.chmod(mode)

    return undo


def delete_folder(folder: Path) -> None:
    """Delete a run folder under a running training, as a user would. It disappears from its
    path in one step (a rename to a hidden sibling), then its files go. `shutil.rmtree` alone
    races the run's own writer threads (TensorBoard's writer made a file in `tensorboard/`
    between rmtree's listing and its rmdir: "Directory not empty", seen in a busy full-suite run):
    the fault must happen to the program, not to the test."""
    tombstone = folder.with_name(f".{folder.name}.deleted")
    os.rename(folder, tombstone)
    shutil.rmtree(tombstone, ignore_errors=True)
