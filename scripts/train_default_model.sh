#!/usr/bin/env bash
# Reproduce resources/models/default.safetensors: train with the "default-model" preset
# (core/train/presets.py), average the checkpoints of steps 18,000-22,000 (roadstudio-cli average; why:
# docs/output_quality.md), then evaluate the average, render docs/images/default_model_*.png and
# install it with its model card.
#
#   scripts/train_default_model.sh [RUN_DIR] [extra roadstudio-cli train flags...]
#
# RUN_DIR defaults to runs/default-model (it must not hold a run yet; continue a stopped run with
# `roadstudio-cli train --resume RUN_DIR`). CAMVID points at CamVid in the SegNet layout (default
# ../shared/data/camvid) and CITYSCAPES_MINI at the 8-frame Cityscapes folder (default
# ../shared/data/cityscapes-mini), both beside the checkout. The bundled model was trained with
# OMP_NUM_THREADS=1 on a 2-core CPU shared with other jobs: one torch thread per process was about
# 10× faster there than two fighting for busy cores. On a free machine, export OMP_NUM_THREADS=2
# (or train on a GPU: --device cuda).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR="${1:-runs/default-model}"
shift || true
CAMVID_DIR="${CAMVID:-../shared/data/camvid}"
CITYSCAPES="${CITYSCAPES_MINI:-../shared/data/cityscapes-mini}"
PYTHON="${PYTHON:-python}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

"$PYTHON" -m core train --preset default-model --data "$CAMVID_DIR" --extra-data "$CITYSCAPES" \
    --run-dir "$RUN_DIR" "$@"
"$PYTHON" -m core average --run "$RUN_DIR" --from-step 18000 --to-step 22000 \
    --output "$RUN_DIR/average_18000_22000.safetensors"
"$PYTHON" -m core train --preset every-brush --init-from "$RUN_DIR/average_18000_22000.safetensors" \
    --data "$CAMVID_DIR" --run-dir "$RUN_DIR-every-brush"
"$PYTHON" scripts/choose_on_validation.py "$RUN_DIR-every-brush" \
    --candidates "$RUN_DIR-every-brush"/checkpoints/step_*[0-9].safetensors
