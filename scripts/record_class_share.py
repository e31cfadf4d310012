#!/usr/bin/env python
"""Record in a model's card the per-class pixel share of the data it was trained on, for models
trained before Road Studio 0.3 (which records it during training: `class_pixel_share`).

    python scripts/record_class_share.py MODEL.safetensors --preset default-model [--epochs 1]

Replays the recipe's training input pipeline (the same sources, sampling and augmented crops, by
seed) for `--epochs` epochs, counts the label pixels per class and rewrites the weights file with
`class_pixel_share` (and `class_pixel_share_source`) added to its card. The weights, config and every
other card entry stay as they are. The app then hatches the brushes the model barely saw
(core.weights.class_coverage).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from tqdm import tqdm

from core.weights.checkpoints import load_weights, save_weights
from core.data.loader import make_loader
from core.data.registry import open_datasets
from core.labels import ID_TO_PALETTE_INDEX, NUM_PALETTE_CLASSES, PALETTE
from core.train.presets import preset_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--preset", required=True, help="the recipe the model was trained with")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    cfg = preset_config(args.preset)
    train, _, _ = open_datasets(cfg.data, cfg.train.seed)
    loader, sampler = make_loader(train, cfg.data, batch_size=1, seed=cfg.train.seed, train=True,
                                  device=torch.device("cpu"))
    index = torch.from_numpy(ID_TO_PALETTE_INDEX.astype("int64"))
    counts = torch.zeros(NUM_PALETTE_CLASSES, dtype=torch.int64)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for batch in tqdm(loader, desc=f"epoch {epoch}", unit="pair"):
            counts += torch.bincount(index[batch["labels"].long()].flatten(), minlength=NUM_PALETTE_CLASSES)
    total = max(1, int(counts.sum()))
    share = {PALETTE[c].name: round(int(v) / total, 6) for c, v in enumerate(counts.tolist())}
    loaded = load_weights(args.model)
    card = {**loaded.card, "class_pixel_share": share,
            "class_pixel_share_source": f"replayed: {args.epochs} epoch(s) of the '{args.preset}' recipe's training "
                                        f"input (scripts/record_class_share.py)"}
    save_weights(args.model, loaded.model, loaded.config, card)
    for name, value in sorted(share.items(), key=lambda kv: -kv[1]):
        print(f"{name:<14} {100 * value:7.3f} %")
    print(f"wrote class_pixel_share into {args.model}")


if __name__ == "__main__":
    main()
