"""Noticing a lost peer in a distributed run, and naming it.

A rank whose peer dies or hangs waits in the next collective until the process group's timeout
(30 minutes, so that rank 0 may check a large dataset or write a big checkpoint meanwhile). A peer
that *hangs* (a frozen process, a machine that dropped off the network: its sockets stay open)
is not seen by the collective before then, and no collective error says which rank it was.

So each rank runs a small heartbeat thread against torchrun's key-value store: it increments its
own counter every `beat_s` and reads the others'. A peer whose counter has not moved for
`timeout_s` is lost. The heartbeat thread runs while the main thread computes or waits in a
collective (torch releases the GIL there), so a long checkpoint write on one rank never looks
like a lost peer, while a dead or frozen one does within `timeout_s`. Silence is only counted
while the watching thread itself runs: on a machine so loaded that it got no CPU for a while,
nobody is blamed for that gap.

- Nobody else noticed: the thread prints one line naming the lost rank(s) and ends the process
  with exit code 1; torchrun then stops the job (or restarts it under --max-restarts).
- The main thread's collective failed first (a killed peer closes its sockets, so Gloo fails at
  once): `explain` waits for the verdict and the Failed event names the lost rank.
A rank that ends normally marks itself done, so a peer finishing a moment earlier is not "lost".
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

#: Seconds without a heartbeat after which a peer counts as lost.
PEER_TIMEOUT_ENV = "ROADSTUDIO_PEER_TIMEOUT_S"
DEFAULT_PEER_TIMEOUT_S = 60.0
EXIT_LOST_PEER = 1


def peer_timeout_s(environ: dict[str, str] | os._Environ[str] | None = None) -> float:
    env = os.environ if environ is None else environ
    raw = env.get(PEER_TIMEOUT_ENV)
    if not raw:
        return DEFAULT_PEER_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_PEER_TIMEOUT_S
    return value if value > 0 else DEFAULT_PEER_TIMEOUT_S


def lost_message(rank: int, lost: list[int] | None, timeout_s: float) -> str:
    who = "the rendezvous store (the job's first machine)" if lost is None else \
        ("rank " if len(lost) == 1 else "ranks ") + ", ".join(str(r) for r in lost)
    return (f"rank {rank} lost {who}: no sign of life for {timeout_s:g} s (the process died or hung, or its "
            "machine is unreachable); every rank stops. The last checkpoint is intact: restart the job to resume")


class PeerWatch:
    """Heartbeats in `store` (keys beat/<rank>, done/<rank>) and a verdict on silent peers."""

    def __init__(self, store: Any, rank: int, world_size: int, timeout_s: float,
                 on_lost: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.rank = rank
        self.world_size = world_size
        self.timeout_s = timeout_s
        self.beat_s = min(1.0, timeout_s / 5)
        self.on_lost = on_lost or _exit_with_message
        self.lost: list[int] | None = []  # None: the store itself is unreachable
        self._verdict = threading.Event()
        self._stop = threading.Event()
        self._explaining = False  # the main thread reports the loss itself (see explain)
        self._thread = threading.Thread(target=self._run, name="roadstudio-peer-watch", daemon=True)

    def start(self) -> None:
        self._beat()
        self._thread.start()

    def stop(self) -> None:
        """This rank ends normally: tell the others, stop beating."""
        self._stop.set()
        # The store may be gone at the very end (whatever its backend raises): nothing to report.
        with contextlib.suppress(Exception):
            self.store.add(f"done/{self.rank}", 1)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=2 * self.beat_s + 1)

    def explain(self) -> str | None:
        """Called after a collective failed: wait (at most the peer timeout) for a silent peer and
        return the message naming it, or None when every peer still beats (another failure)."""
        self._explaining = True
        if self._verdict.wait(self.timeout_s + 3 * self.beat_s) and self.lost != []:
            return lost_message(self.rank, self.lost, self.timeout_s)
        return None

    def _beat(self) -> None:
        self.store.add(f"beat/{self.rank}", 1)

    def _run(self) -> None:
        peers = [r for r in range(self.world_size) if r != self.rank]
        seen: dict[int, int] = {}
        since = {r: time.monotonic() for r in peers}
        store_ok = last_tick = time.monotonic()
        # This thread itself may get no CPU for a while (a machine loaded far beyond its cores):
        # a peer is only blamed for silence this thread was awake to observe, or a busy machine
        # would see lost peers that are merely as starved as we are.
        stall_s = max(3 * self.beat_s, self.timeout_s / 4)
        while not self._stop.wait(self.beat_s):
            now = time.monotonic()
            if now - last_tick > stall_s:
                since = dict.fromkeys(since, now)
                store_ok = now
            last_tick = now
            try:
                self._beat()
                for r in list(peers):
                    if self.store.add(f"done/{r}", 0) > 0:  # ended normally: not lost
                        peers.remove(r)
                        continue
                    value = self.store.add(f"beat/{r}", 0)
                    if seen.get(r) != value:
                        seen[r], since[r] = value, now
                store_ok = now
            except Exception:  # noqa: BLE001 - an unreachable store is judged by the same clock
                if now - store_ok > self.timeout_s:
                    self._declare(None)
                    return
                continue
            lost = sorted(r for r in peers if now - since[r] > self.timeout_s)
            if lost:
                self._declare(lost)
                return

    def _declare(self, lost: list[int] | None) -> None:
        if self._stop.is_set():
            return
        self.lost = lost
        self._verdict.set()
        if not self._explaining:
            self.on_lost(lost_message(self.rank, lost, self.timeout_s))


def _exit_with_message(message: str) -> None:
    # From a helper thread while the main thread may be blocked in a collective: nothing but
    # ending the process unblocks it. One line, written directly (os._exit flushes nothing).
    # The newline first: stderr may hold an unfinished progress-bar line.
    os.write(2, f"\nerror: {message}\n".encode())
    os._exit(EXIT_LOST_PEER)


def connect_store(prefix: str, timeout_s: float) -> Any:
    """A client connection of its own to torchrun's store (the process group's connection is not
    shared with a second thread), under `prefix`."""
    import torch.distributed as dist

    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), is_master=False,
                          timeout=timedelta(seconds=max(timeout_s, 5.0)), wait_for_workers=False)
    return dist.PrefixStore(prefix, store)


__all__ = ["DEFAULT_PEER_TIMEOUT_S", "PEER_TIMEOUT_ENV", "PeerWatch", "connect_store", "lost_message",
           "peer_timeout_s"]
