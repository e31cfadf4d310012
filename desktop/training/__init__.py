"""The training panel (issue 5): set up, start, watch, pause, resume and stop pix2pix runs.

Modules: form (set-up form), presets, dataset_probe (dataset check in a task), worker (the engine
generator on a QThread), charts (QPainter loss curves), progress (rate/ETA), monitor,
checkpoints_view, history, run_files (reading run folders), tasks (background jobs), panel.
"""

from desktop.training.panel import TrainingPanel, default_runs_dir

__all__ = ["TrainingPanel", "default_runs_dir"]
