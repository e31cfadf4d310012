"""Where this process sits in a (possibly distributed) run: the one place that knows rank and
world size.

`torchrun` sets RANK, WORLD_SIZE and LOCAL_RANK; a plain `python` run has none and is rank 0 of 1.
The loop asks only this module; the process group, DistributedDataParallel and cross-rank agreement
live in core.train.distributed (docs/distributed.md).
Only rank 0 writes files (config, checkpoints, metrics, samples, TensorBoard).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ConfigError


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """The process that writes files and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DistEnv:
        env = os.environ if environ is None else environ
        try:
            rank = int(env.get("RANK", "0"))
            world = int(env.get("WORLD_SIZE", "1"))
            local = int(env.get("LOCAL_RANK", str(rank)))
        except ValueError as exc:
            raise ConfigError(f"RANK / WORLD_SIZE / LOCAL_RANK must be integers ({exc})") from None
        if world < 1 or not 0 <= rank < world or local < 0:
            raise ConfigError(f"invalid distributed environment: RANK={rank} WORLD_SIZE={world} LOCAL_RANK={local}")
        return cls(rank=rank, world_size=world, local_rank=local)
