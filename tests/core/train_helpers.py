"""Tiny pairs and configs shared by the training tests (and the subprocess helper script)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import torch
from PIL import Image

from core.config import DataConfig, DiscriminatorConfig, GanMode, GeneratorConfig, Norm, RunConfig, TrainConfig
from core.data.base import InMemoryPairs
from core.labels import ID_TO_COLOR

@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Tiny networks gain nothing from threads, and on a busy shared machine OpenMP threads
    spinning at barriers make them many times slower. Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# Cityscapes label ids used to draw the toy scenes.
SKY, ROAD, CAR, BUILDING, VEGETATION = 23, 7, 26, 11, 21


def tiny_pairs(count: int = 4, size: int = 32, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Street-like toy scenes: sky over building over road, a car at a different place in each.
    The photo is the label colour plus fixed noise, so G can learn the mapping in a few steps."""
    rng = np.random.default_rng(seed)
    pairs = []
    for i in range(count):
        ids = np.full((size, size), SKY, np.uint8)
        ids[size // 4: size // 2] = BUILDING
        ids[size // 2:] = ROAD
        x0 = (i * size // count) % (size - size // 4)
        ids[size // 2: size * 3 // 4, x0: x0 + size // 4] = CAR
        ids[size // 4: size // 2, (x0 + size // 2) % size: (x0 + size // 2) % size + 2] = VEGETATION
        photo = ID_TO_COLOR[ids].astype(np.int16) + rng.integers(-12, 13, (size, size, 3))
        pairs.append((ids, np.clip(photo, 0, 255).astype(np.uint8)))
    return pairs


def tiny_sources(count: int = 4, size: int = 32, val: int = 0) -> tuple[InMemoryPairs, InMemoryPairs | None]:
    pairs = tiny_pairs(count + val, size)
    return InMemoryPairs(pairs[:count], "tiny-train"), (InMemoryPairs(pairs[count:], "tiny-val") if val else None)


def tiny_config(*, size: int = 32, depth: int = 4, ngf: int = 8, ndf: int = 8, batch_size: int = 2,
                epochs: int = 3, epochs_decay: int = 2, max_steps: int = 0, checkpoint_every: int = 4,
                sample_every: int = 4, keep_checkpoints: int = 2, seed: int = 1, dropout: bool = True,
                flip: bool = True, gan_mode: GanMode = "vanilla", norm: Norm = "batch",
                lr: float = 2e-4) -> RunConfig:
    return RunConfig(
        name="tiny",
        generator=GeneratorConfig(depth=depth, ngf=ngf, dropout=dropout, norm=norm),
        discriminator=DiscriminatorConfig(ndf=ndf, n_layers=2, norm=norm),
        data=DataConfig(path="in-memory", load_size=(size + 4, size + 4), crop_size=(size, size), flip=flip),
        train=TrainConfig(batch_size=batch_size, epochs=epochs, epochs_decay=epochs_decay, max_steps=max_steps,
                          checkpoint_every=checkpoint_every, sample_every=sample_every,
                          keep_checkpoints=keep_checkpoints, seed=seed, gan_mode=gan_mode,
                          device="cpu", lr=lr),
    )


#: The smallest networks the training CLI builds (depth-3 U-Net and 2-layer PatchGAN, 4 filters
#: each) on 32-px crops; tests add batch size, device, validation and stopping flags.
TINY_CLI_MODEL = ["--depth", "3", "--ngf", "4", "--ndf", "4", "--d-layers", "2", "--crop-size", "32",
                  "--load-size", "36"]

E = TypeVar("E")


def of(events: list[Any], cls: type[E]) -> list[E]:
    """The events of one kind, in order."""
    return [e for e in events if isinstance(e, cls)]


def write_aligned_dataset(root: Path, count: int, size: int, suffix: str = ".png", **save: Any) -> Path:
    """A pix2pix aligned dataset of tiny_pairs: root/train/N<suffix>, photo left (A), colour label
    map right (B)."""
    (root / "train").mkdir(parents=True, exist_ok=True)
    for i, (ids, photo) in enumerate(tiny_pairs(count, size=size)):
        Image.fromarray(np.concatenate([photo, ID_TO_COLOR[ids]], axis=1)).save(root / "train" / f"{i}{suffix}", **save)
    return root


@pytest.fixture(scope="module")
def aligned_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pix2pix aligned layout, 8 JPEG pairs of 64 px: train/N.jpg, photo left (A), colour label map right (B)."""
    return write_aligned_dataset(tmp_path_factory.mktemp("data") / "streets", 8, size=64, suffix=".jpg", quality=95)


def spread_batchnorm_stats(m: torch.nn.modules.batchnorm._BatchNorm, mean: float, var: tuple[float, float],
                           batches: int | None = None) -> None:
    """Running statistics away from (0, 1), as after training (so a dropped or mis-folded buffer
    shows): mean uniform in ±mean, variance uniform in `var`, and `batches` as the batch count."""
    assert m.running_mean is not None and m.running_var is not None and m.num_batches_tracked is not None
    m.running_mean.uniform_(-mean, mean)
    m.running_var.uniform_(*var)
    if batches is not None:
        m.num_batches_tracked.fill_(batches)


def straight_and_resumed(cfg: RunConfig, root: Path, src: dict[str, int], stop_after: int
                         ) -> tuple[list[Any], int, dict[str, Any], dict[str, Any]]:
    """The exact-resume experiment: train `cfg` uninterrupted in root/straight, and in root/cut
    stop the event stream after step `stop_after` (a kill between checkpoints), then resume it.
    Returns (the uninterrupted run's events, the step of the checkpoint the cut run left, the final
    training states of both runs) for the test to compare."""
    from core.weights.checkpoints import load_training_state
    from core.train.events import Step
    from core.train.loop import train

    straight = list(train(cfg, root / "straight", sources=tiny_sources(**src)))
    stream = train(cfg, root / "cut", sources=tiny_sources(**src))
    for event in stream:
        if isinstance(event, Step) and event.step == stop_after:
            break
    stream.close()  # type: ignore[attr-defined]  # train() is a generator; closing it ends the run there
    cut_step = int(load_training_state(root / "cut/checkpoints/last.pt")["step"])
    list(train(None, root / "cut", sources=tiny_sources(**src), resume=True))
    return (straight, cut_step, load_training_state(root / "straight/checkpoints/last.pt"),
            load_training_state(root / "cut/checkpoints/last.pt"))
