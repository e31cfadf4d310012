"""Parts of the training panel without the engine: the loss chart, run-folder reading, the set-up
form's validation and presets, progress maths and the CLI equivalents."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.config import RunConfig, save_run_config
from desktop.training.charts import GrowingSeries, LineChart
from desktop.training.form import SetupForm
from desktop.training.panel import TrainingPanel, cli_commands
from desktop.training.presets import PAPER, QUICK_LOOK
from desktop.training.progress import RateMeter, format_duration
from desktop.training.run_files import list_checkpoints, list_runs, read_history
from desktop.tasks import TaskRunner


# ------------------------------------------------------------------------------------- chart
def reference_ema(values: np.ndarray, w: float) -> np.ndarray:
    out, last = [], 0.0
    for n, v in enumerate(values, start=1):
        last = w * last + (1 - w) * v
        out.append(last / (1 - w**n))
    return np.array(out)


@pytest.mark.parametrize("weight", [0.0, 0.6, 0.99])
def test_smoothing_matches_the_debiased_ema_whether_appended_or_re_smoothed(weight):
    rng = np.random.default_rng(0)
    values = rng.normal(1.0, 0.3, 1000)
    one_by_one = GrowingSeries(weight)
    for i, v in enumerate(values):
        one_by_one.append(i, v)
    bulk = GrowingSeries(0.3)
    bulk.extend(np.arange(1000), values)
    bulk.set_smoothing(weight)  # the slider moved: the whole history is re-smoothed
    expected = reference_ema(values, weight)
    np.testing.assert_allclose(one_by_one.smoothed, expected, rtol=1e-9)
    np.testing.assert_allclose(bulk.smoothed, expected, rtol=1e-9)


def test_a_nan_loss_does_not_poison_the_smoothed_curve():
    series = GrowingSeries(0.5)
    for i, v in enumerate([1.0, 2.0, float("nan"), 2.0]):
        series.append(i, v)
    assert np.isfinite(series.smoothed).all()
    series.set_smoothing(0.5)
    assert np.isfinite(series.smoothed).all()


def test_chart_with_100k_points_paints_one_column_per_pixel(qtbot):
    chart = LineChart("losses")
    qtbot.addWidget(chart)
    chart.add_curve("G_L1", "#e67e22")
    chart.add_curve("D_real", "#27ae60")
    steps = np.arange(1, 100_001, dtype=np.float64)
    chart.extend("G_L1", steps, 30 * np.exp(-steps / 30000) + np.random.default_rng(0).normal(0, 1, steps.size))
    chart.extend("D_real", steps, np.full(steps.size, 0.5))
    chart.resize(500, 250)
    chart.show()
    for step in range(100_001, 100_101):  # live appends keep the series growing
        chart.append("G_L1", step, 5.0)
    assert len(chart.series("G_L1")) == 100_100
    image = chart.grab().toImage()
    assert chart.paint_count >= 1
    # The curve is drawn: some pixels carry the G_L1 colour.
    colours = {image.pixelColor(x, y).name() for x in range(0, 500, 2) for y in range(0, 250, 2)}
    assert "#e67e22" in colours


def test_appends_do_not_repaint_more_than_the_timer_allows(qtbot):
    """Counted against the chart's own repaint timer, not the wall clock: on a busy machine the
    timer fires less often and the chart must paint less, never more."""
    from PySide6.QtWidgets import QApplication

    chart = LineChart("losses", max_fps=10)
    qtbot.addWidget(chart)
    chart.add_curve("G_L1", "#e67e22")
    chart.show()
    qtbot.waitExposed(chart)
    qtbot.waitUntil(lambda: chart.paint_count >= 1)  # the first (expose) paint is done
    ticks: list[int] = []
    chart._timer.timeout.connect(lambda: ticks.append(chart.paint_count))
    before = chart.paint_count
    for step in range(2000):  # far more appends than frames, with the event loop running between
        chart.append("G_L1", step, 1.0)
        if step % 200 == 0:
            QApplication.processEvents()
    qtbot.waitUntil(lambda: chart.paint_count > before)  # the appended points do get drawn
    QApplication.processEvents()
    painted = chart.paint_count - before
    # At most one paint per timer tick (plus one a window system expose may add), however many appends.
    assert 1 <= painted <= len(ticks) + 1
    assert painted <= 2000 // 200 + 2  # never one per append: at most one per event-loop pass


# --------------------------------------------------------------------------------- run files
def write_run(run_dir: Path, lines: list[str]) -> None:
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "samples").mkdir()
    save_run_config(RunConfig(name=run_dir.name), run_dir / "config.toml")
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def step_line(step: int, l1: float) -> str:
    return json.dumps({"kind": "step", "step": step, "epoch": 0, "lr": 2e-4,
                       "losses": {"G_GAN": 1.0, "G_L1": l1, "D_real": 0.5, "D_fake": None}})


def test_history_of_a_resumed_run_keeps_the_last_occurrence_of_each_step(tmp_path):
    run = tmp_path / "runs" / "a"
    lines = [json.dumps({"kind": "started", "total_steps": 10, "steps_per_epoch": 5, "device": "cpu"})]
    lines += [step_line(s, 10.0) for s in range(1, 6)]  # killed after step 5, last checkpoint at 3
    lines += ['{"kind": "step", "step": 6, "los']  # torn line of the killed writer
    lines += [json.dumps({"kind": "started", "total_steps": 10, "steps_per_epoch": 5, "device": "cpu"})]
    lines += [step_line(s, 20.0) for s in range(4, 8)]
    lines += [json.dumps({"kind": "validation", "step": 5, "epoch": 0, "l1": 0.2, "psnr": 20.0, "ssim": 0.5,
                          "is_best": True})]
    write_run(run, lines)
    (run / "samples" / "step_0000005.png").write_bytes(b"")
    (run / "samples" / "step_0000010.png").write_bytes(b"")
    history = read_history(run)
    assert history.steps == [1, 2, 3, 4, 5, 6, 7]
    assert history.losses["G_L1"] == [10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 20.0]
    assert np.isnan(history.losses["D_fake"][0])  # null (non-finite) in the file
    assert history.bad_lines == 1
    assert history.validations[0]["is_best"]
    assert history.latest_sample == run / "samples" / "step_0000010.png"


def test_runs_list_holds_only_run_folders_and_checkpoints_are_found(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "a", [step_line(1, 1.0)])
    (runs / "not-a-run").mkdir()
    ck = runs / "a" / "checkpoints"
    for name in ("step_0000010.safetensors", "step_0000010.pt", "step_0000020.safetensors", "step_0000020.pt",
                 "last.safetensors", "last.pt", "best.safetensors"):
        (ck / name).write_bytes(b"x")
    found = list_runs(runs)
    assert [r.name for r in found] == ["a"]
    assert found[0].resumable and found[0].last_step == 20
    assert list_runs(tmp_path / "missing") == []
    checkpoints = list_checkpoints(runs / "a")
    assert [c.label for c in checkpoints] == ["step 10", "step 20", "last", "best"]
    assert checkpoints[0].state_path == ck / "step_0000010.pt"
    assert checkpoints[-1].state_path is None


# ------------------------------------------------------------------------------------- form
@pytest.fixture
def form(qtbot, tmp_path):
    tasks = TaskRunner()
    widget = SetupForm(tmp_path / "runs", tasks)
    qtbot.addWidget(widget)
    widget.set_run_name("r1")
    yield widget
    tasks.wait(20000)


def test_presets_fill_the_form_and_editing_switches_to_custom(form):
    form.apply_preset(PAPER)
    cfg = form.build_config()
    assert (cfg.generator.depth, cfg.generator.ngf, cfg.generator.norm) == (8, 64, "batch")
    assert cfg.discriminator.n_layers == 3 and cfg.discriminator.receptive_field == 70
    assert (cfg.train.epochs, cfg.train.epochs_decay, cfg.train.batch_size, cfg.train.lr) == (100, 100, 1, 2e-4)
    assert (cfg.train.lambda_l1, cfg.train.gan_mode) == (100.0, "vanilla")
    assert (cfg.data.load_size, cfg.data.crop_size) == ((286, 286), (256, 256))
    form.ngf_spin.setValue(32)
    assert form.preset_combo.currentData() == "Custom"
    form.apply_preset(QUICK_LOOK)
    assert form.build_config().data.crop_size == (128, 128)
    assert form.preset_combo.currentData() == QUICK_LOOK


def test_patch_size_choices_map_to_discriminator_layers(form):
    for size, layers in ((1, 0), (16, 1), (70, 3), (286, 5)):
        form.patch_combo.setCurrentIndex(form.patch_combo.findData(size))
        cfg = form.build_config()
        assert cfg.discriminator.n_layers == layers
        assert cfg.discriminator.receptive_field == size


def test_anti_grid_decoder_multiscale_d_and_feature_matching_are_form_settings(form, qtbot):
    form.apply_preset(PAPER)
    cfg = form.build_config()
    assert (cfg.generator.upsample, cfg.discriminator.scales, cfg.train.lambda_feat) == ("transpose", 1, 0.0)
    form.upsample_combo.setCurrentIndex(form.upsample_combo.findData("resize"))
    assert form.preset_combo.currentData() == "Custom"  # an edit, like any other setting
    form.d_scales_spin.setValue(3)
    form.lambda_feat_spin.setValue(10.0)
    cfg = form.build_config()
    assert (cfg.generator.upsample, cfg.discriminator.scales, cfg.train.lambda_feat) == ("resize", 3, 10.0)
    # a reopened run's settings fill the same fields back
    form.apply_preset(PAPER)
    form.apply_config(cfg)
    assert form.build_config().generator.upsample == "resize" and form.d_scales_spin.value() == 3


def test_invalid_settings_are_caught_with_the_engines_reason(form):
    form.apply_preset(PAPER)
    assert form.state().valid
    form.crop_h.setValue(200)  # not a multiple of 2**8
    state = form.state()
    assert not state.valid and "multiple of 256" in state.message
    form.crop_h.setValue(256)
    form.load_h.setValue(100)  # crop larger than load
    assert "larger than load_size" in form.state().message
    form.load_h.setValue(286)
    form.name_edit.setText("bad/name")
    assert "run name" in form.state().message
    form.name_edit.setText("ok")
    assert form.state().valid


def test_bf16_only_with_cuda(form):
    form.device_combo.setCurrentIndex(form.device_combo.findData("cpu"))
    assert not form.bf16_check.isEnabled()
    form.device_combo.setCurrentIndex(form.device_combo.findData("cuda"))
    assert form.bf16_check.isEnabled()
    form.bf16_check.setChecked(True)
    assert form.build_config().train.bf16
    form.device_combo.setCurrentIndex(form.device_combo.findData("auto"))
    assert not form.bf16_check.isChecked() and not form.build_config().train.bf16


def test_an_existing_run_name_is_refused(form, tmp_path):
    save_run_config(RunConfig(name="r1"), (tmp_path / "runs" / "r1").mkdir(parents=True) or
                    tmp_path / "runs" / "r1" / "config.toml")
    state = form.state()
    assert not state.valid and "already exists" in state.message


def test_start_is_disabled_with_the_reason_next_to_it(qtbot, tmp_path):
    panel = TrainingPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.form.apply_preset(PAPER)
    assert panel.start_button.isEnabled()
    panel.form.crop_w.setValue(100)
    assert not panel.start_button.isEnabled()
    assert "crop_size" in panel.status_label.text()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not panel.is_running
    panel.form.crop_w.setValue(256)
    assert panel.start_button.isEnabled()
    panel.shutdown()


# ---------------------------------------------------------------------------------- helpers
def test_rate_meter_ignores_paused_time():
    now = [0.0]
    meter = RateMeter(window_s=100, clock=lambda: now[0])
    meter.start()
    for step in range(11):
        now[0] = step * 0.5
        meter.add(step)
    assert meter.rate == pytest.approx(2.0)
    assert meter.eta(10, 30) == pytest.approx(10.0)
    meter.pause()
    now[0] += 60
    meter.resume()
    assert meter.elapsed == pytest.approx(5.0)
    assert format_duration(3725) == "1:02:05" and format_duration(None) == "–"


def test_cli_commands_quote_paths(tmp_path):
    run = tmp_path / "my runs" / "a"
    start, resume, tensorboard = cli_commands(run)
    assert start == f"roadstudio-cli train --config '{run}/config.toml' --run-dir '{run}-cli'"
    assert resume == f"roadstudio-cli train --resume '{run}'"
    assert tensorboard == f"tensorboard --logdir '{run}/tensorboard'"


@pytest.mark.shared_data
def test_a_real_dataset_folder_is_checked_in_the_background_and_previewed(qtbot, tmp_path, shared_data):
    panel = TrainingPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.resize(900, 900)
    panel.show()
    form = panel.form
    form.folder_edit.setText(str(shared_data / "cityscapes-mini-aligned"))
    qtbot.mouseClick(form.folder_radio, Qt.MouseButton.LeftButton)
    assert form.folder_radio.isChecked(), form.check_label.text()
    assert form.probe_pending and not panel.start_button.isEnabled(), form.check_label.text()  # waits for the check
    qtbot.waitUntil(lambda: not form.probe_pending, timeout=60_000)
    assert "aligned: 8 usable pairs" in form.check_label.text()
    assert "layout:    aligned" in form.report_view.toPlainText()
    preview = form.preview_view.image()
    assert preview is not None and preview.height() > 0
    assert panel.start_button.isEnabled()
    assert panel.form.build_config().data.path == str(shared_data / "cityscapes-mini-aligned")
    panel.shutdown()


def test_truncating_a_series_re_smooths_what_is_left():
    series = GrowingSeries(0.5)
    values = np.linspace(1.0, 2.0, 20)
    series.extend(np.arange(1, 21), values)
    series.truncate_after(10)
    assert len(series) == 10 and series.x[-1] == 10
    series.append(11, 5.0)  # continues from the state at step 10, not step 20
    np.testing.assert_allclose(series.smoothed, reference_ema(np.r_[values[:10], 5.0], 0.5), rtol=1e-9)


def test_gpu_memory_is_queried_in_the_worker_thread_and_shown(qtbot, tmp_path, monkeypatch):
    """CUDA is not available here, so the engine is replaced by a stand-in that reports a CUDA
    device; what is tested is the panel's part: the query runs in the worker, the label shows it."""
    import threading

    import torch

    from core.train.events import Finished, Started, Step

    calls: list[int] = []
    def max_memory_allocated(*_args: object, **_kwargs: object) -> int:
        calls.append(threading.get_ident())
        return 3 * 1024**3

    monkeypatch.setattr(torch.cuda, "max_memory_allocated", max_memory_allocated)

    def cuda_like_engine(cfg, run_dir, control, **kwargs):
        yield Started(run_dir=str(run_dir), device="cuda:0", total_steps=40, steps_per_epoch=20, start_step=0,
                      start_epoch=0, train_pairs=20, val_pairs=0, generator_params=1, discriminator_params=1)
        for step in range(1, 41):
            yield Step(step=step, epoch=(step - 1) // 20, losses={"G_GAN": 1.0, "G_L1": 9.0, "D_real": 0.5,
                                                                 "D_fake": 0.5}, lr=2e-4, data_time=0.0,
                       step_time=0.0, samples_per_s=1.0)
        yield Finished(step=40, epoch=1, reason="completed")

    panel = TrainingPanel(tmp_path / "runs", train_fn=cuda_like_engine)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=30_000)
    assert calls and threading.get_ident() not in calls  # never on the GUI thread
    assert panel.monitor.memory_label.text() == "GPU memory (peak allocated): 3.0 GiB"
    assert panel.monitor.progress.value() == 40
    assert "Finished (completed)" in panel.monitor.state_label.text()
    panel.shutdown()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_training_thread_and_the_threads_it_starts_yield_the_cpu_to_the_gui(qtbot, tmp_path):
    """When training competes with the person painting, the GUI thread must win: the worker
    thread lowers its own priority (and threads it starts, like its OpenMP team, inherit it),
    while the GUI thread and the process keep theirs."""
    import os
    import threading

    from core.train.events import Finished, Started
    from desktop.training.worker import TRAINING_NICE_OFFSET

    seen: dict[str, int] = {}

    def engine(cfg, run_dir, control, **kwargs):
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child = threading.Thread(target=lambda: seen.__setitem__(
            "child", os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        child.start()
        child.join()
        yield Started(run_dir=str(run_dir), device="cpu", total_steps=1, steps_per_epoch=1, start_step=0,
                      start_epoch=0, train_pairs=1, val_pairs=0, generator_params=1, discriminator_params=1)
        yield Finished(step=0, epoch=0, reason="completed")

    gui_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    panel = TrainingPanel(tmp_path / "runs", train_fn=engine)
    qtbot.addWidget(panel)
    panel.show()
    for _ in range(2):  # a second run in the same panel does not lower it further
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not panel.is_running, timeout=30_000)
        expected = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + TRAINING_NICE_OFFSET)
        assert seen == {"worker": expected, "child": expected}
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == gui_nice
        seen.clear()
    panel.shutdown()


def test_default_model_recipe_preset_and_the_issue_18_options_are_form_settings(form, qtbot):
    from core.errors import ConfigError
    from core.train.presets import preset_config
    from desktop.training.form import _select
    from desktop.training.presets import CUSTOM, EVERY_BRUSH

    form.synthetic_radio.setChecked(True)
    form.set_run_name("recipe")
    form.apply_preset(EVERY_BRUSH)
    recipe = preset_config("every-brush")
    cfg = form.build_config()
    assert cfg.generator.modulation == recipe.generator.modulation
    assert cfg.data.painted_share == recipe.data.painted_share
    assert cfg.data.rare_threshold == recipe.data.rare_threshold
    assert (cfg.generator.modulation, cfg.data.painted_share, cfg.train.init_from) == ("clade", 0.0, "default")
    # its extra datasets are the recipe's, where they exist beside this checkout
    assert all(Path(p).is_dir() for p in cfg.data.extra_paths)
    _select(form.modulation_combo, "none")
    _select(form.modulation_combo, "clade")
    form.painted_spin.setValue(0.4)
    form.rare_spin.setValue(0.25)
    assert form.preset_combo.currentData() == CUSTOM  # editing leaves the preset
    cfg = form.build_config()
    assert (cfg.generator.modulation, cfg.data.painted_share, cfg.data.rare_threshold) == ("clade", 0.4, 0.25)
    form.encoding_combo.setCurrentIndex(form.encoding_combo.findData("color"))
    with pytest.raises(ConfigError, match="onehot"):
        form.build_config()


def test_start_from_chooses_random_bundled_or_a_weights_file_and_a_reopened_run_keeps_it(form, tmp_path):
    from dataclasses import replace

    from desktop.training.form import _select

    form.synthetic_radio.setChecked(True)
    form.set_run_name("fine")
    assert form.build_config().train.init_from == ""  # from scratch unless asked
    _select(form.init_combo, "default")
    assert form.build_config().train.init_from == "default"
    # a run started from a weights file, reopened: the file is shown (by name) and kept
    weights = str(tmp_path / "street.safetensors")
    cfg = form.build_config()
    form.apply_config(cfg.replace(train=replace(cfg.train, init_from=weights)))
    assert form.init_combo.currentText() == "street.safetensors"
    assert form.build_config().train.init_from == weights
    form.apply_config(cfg.replace(train=replace(cfg.train, init_from=weights)))  # not listed twice
    assert [form.init_combo.itemData(i) for i in range(form.init_combo.count())] == ["", "default", weights]


def test_the_photo_edit_preset_builds_the_photo_edit_recipe(form):
    from core.train.presets import preset_config
    from desktop.training.presets import PHOTO_EDIT

    form.synthetic_radio.setChecked(True)
    form.set_run_name("edit")
    assert form.preset_combo.findData(PHOTO_EDIT) >= 0  # listed in the form
    form.apply_preset(PHOTO_EDIT)
    recipe = preset_config("photo-edit")
    cfg = form.build_config()
    assert cfg.generator.condition == "labels+photo" == recipe.generator.condition
    assert cfg.generator.input_nc == recipe.generator.input_nc
    assert (cfg.train.lr, cfg.train.init_from) == (recipe.train.lr, recipe.train.init_from)
