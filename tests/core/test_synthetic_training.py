"""A short real training run on synthetic streets, opened the way the app and CLI open data
(core.data.registry via the training loop), lowers the generator's L1 on held-out scenes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from core.weights.checkpoints import load_weights
from core.config import DataConfig, TrainConfig
from core.data.synthetic import SyntheticStreets
from core.models.encoding import encode_labels, photo_to_tensor
from core.models import build_generator
from core.train.events import Finished, Step
from core.train.loop import train
from tests.core.train_helpers import tiny_config

SIZE = (32, 64)


def _l1(model: torch.nn.Module, source: SyntheticStreets) -> float:
    pairs = [source[i] for i in range(len(source))]
    model.eval()
    with torch.no_grad():
        x = encode_labels(torch.from_numpy(np.stack([p[0] for p in pairs])), "onehot")
        y = photo_to_tensor(np.stack([p[1] for p in pairs]))
        return float((model(x) - y).abs().mean())


@pytest.mark.slow  # ~20 s on an idle 2-core machine
def test_training_on_synthetic_streets_lowers_l1(tmp_path: Path) -> None:
    base = tiny_config(size=32, ngf=8, ndf=8, depth=4)
    cfg = dataclasses.replace(
        base,
        data=DataConfig(path="synthetic", synthetic_count=16, load_size=SIZE, crop_size=SIZE,
                        preprocess="resize", val_fraction=0.0),
        train=TrainConfig(batch_size=4, epochs=40, epochs_decay=0, max_steps=60, checkpoint_every=60,
                          sample_every=60, seed=3, device="cpu", lr=1e-3),
    )
    held_out = SyntheticStreets(6, seed=3, size=SIZE, first_index=10_000)  # scenes never trained on
    torch.manual_seed(0)
    before = _l1(build_generator(cfg.generator), held_out)
    events = list(train(cfg, tmp_path / "run"))
    assert isinstance(events[-1], Finished) and events[-1].step == 60
    g_l1 = [e.losses["G_L1"] for e in events if isinstance(e, Step)]
    assert np.mean(g_l1[-10:]) < 0.7 * np.mean(g_l1[:10])
    after = _l1(load_weights(tmp_path / "run/checkpoints/last.safetensors").model, held_out)
    print(f"held-out L1 {before:.3f} -> {after:.3f}; G_L1 {np.mean(g_l1[:10]):.1f} -> {np.mean(g_l1[-10:]):.1f}")
    assert after < 0.8 * before, (before, after)
