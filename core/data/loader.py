"""A seeded, resumable, shardable order over a pair source, and the DataLoader around it.

The sampler yields (epoch, index) keys, so the dataset — also inside worker processes — knows
which epoch it is in without shared state; augmentation randomness is derived from
(seed, epoch, index). The order of epoch e is a permutation seeded by (seed, e); under torchrun
rank r takes every world_size-th element, so 2 ranks × batch b see exactly the samples that
1 rank × batch 2b sees. Resuming skips the samples of the epoch already consumed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from core.config import DataConfig
from core.data.base import PairSource
from core.data.rare import rare_label_ids
from core.data.transforms import joint_transform
from core.models.encoding import photo_to_tensor


class ResumableSampler(Sampler[tuple[int, int]]):
    def __init__(self, length: int, seed: int, *, shuffle: bool = True, rank: int = 0,
                 world_size: int = 1) -> None:
        self.length = length
        self.seed = seed
        self.shuffle = shuffle
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.start = 0  # samples of this rank's share already consumed in this epoch

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch = epoch
        self.start = start

    @property
    def per_rank(self) -> int:
        return math.ceil(self.length / self.world_size)

    def order(self, epoch: int) -> list[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            perm = torch.randperm(self.length, generator=g).tolist()
        else:
            perm = list(range(self.length))
        total = self.per_rank * self.world_size
        perm += perm[: total - len(perm)]  # pad by wrapping so every rank gets as many samples
        return perm[self.rank:total:self.world_size]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for index in self.order(self.epoch)[self.start:]:
            yield (self.epoch, index)

    def __len__(self) -> int:
        return max(0, self.per_rank - self.start)


class PairDataset(Dataset):
    """Turns (epoch, index) keys into transformed tensors; see module docstring."""

    def __init__(self, source: PairSource, cfg: DataConfig, seed: int, train: bool) -> None:
        self.source = source
        self.cfg = cfg
        self.seed = seed
        self.train = train
        self.rare_ids = rare_label_ids(source) if train else frozenset()  # for rare-class crops

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: tuple[int, int] | int) -> dict[str, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        labels, photo = self.source[index]
        rng = np.random.default_rng([self.seed, epoch, index])
        ids, image = joint_transform(labels, photo, self.cfg, rng, self.train, self.rare_ids)
        return {
            "labels": ids,  # uint8 (h, w) label ids
            "photo": photo_to_tensor(image.permute(1, 2, 0)),  # float32 (3, h, w) in [-1, 1]
            "index": torch.tensor(index),
        }


def make_loader(source: PairSource, cfg: DataConfig, *, batch_size: int, seed: int, train: bool,
                device: torch.device, rank: int = 0, world_size: int = 1,
                num_workers: int | None = None) -> tuple[DataLoader, ResumableSampler]:
    sampler = ResumableSampler(len(source), seed, shuffle=train, rank=rank, world_size=world_size)
    workers = cfg.num_workers if num_workers is None else num_workers
    loader = DataLoader(
        PairDataset(source, cfg, seed, train),
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
        drop_last=False,
    )
    return loader, sampler
