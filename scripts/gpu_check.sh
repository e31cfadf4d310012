#!/usr/bin/env bash
# One command that proves the GPU paths (issue 14): training speed options, inference paths, the
# training panel on CUDA and a 1-process NCCL torchrun run, as one table; about 8 minutes on one
# GPU. Without a GPU it says so and runs the CPU dry run instead.
#   scripts/gpu_check.sh [--dry-run] [--write-docs]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
exec "$PYTHON" -m benchmarks --gpu "$@"
