"""The `roadstudio` command line, run as a real subprocess (`python -m desktop`), offscreen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import __version__
from desktop import app
from desktop.scene import files
from tests.desktop.app_helpers import scene_ids

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path, *, env_extra: dict[str, str] | None = None,
         drop: tuple[str, ...] = (), cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["ROADSTUDIO_HOME"] = str(tmp_path / "home")  # never touch the user's settings
    env["PYTHONPATH"] = str(REPO)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or tmp_path, timeout=240)


@pytest.mark.slow
def test_screenshot_waits_for_the_preview_and_writes_a_png(tmp_path: Path, tiny_checkpoint: Path) -> None:
    scene = files.save_label_map(tmp_path / "scene.png", scene_ids(64, 128), "ids")
    out = tmp_path / "shot.png"
    result = _run(["--open", str(scene), "--checkpoint", str(tiny_checkpoint), "--view", "overlay",
                   "--screenshot", str(out)], tmp_path, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    image = np.asarray(Image.open(out))
    assert image.shape[2] == 3 and image.shape[0] >= 400 and image.shape[1] >= 800
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_bad_file_and_bad_checkpoint_exit_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG but not really")
    result = _run(["--open", str(bad), "--screenshot", str(tmp_path / "x.png")], tmp_path,
                  env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "broken.png" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()

    scene = files.save_label_map(tmp_path / "scene.png", scene_ids(), "ids")
    wrong = tmp_path / "model.pt"
    wrong.write_bytes(b"not a checkpoint")
    result = _run(["--open", str(scene), "--checkpoint", str(wrong), "--screenshot", str(tmp_path / "y.png")],
                  tmp_path, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 2, result.stderr
    assert "model.pt" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_no_arguments_without_a_display_renders_the_default_scene(tmp_path: Path) -> None:
    result = _run([], tmp_path, drop=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    assert result.returncode == 0, result.stderr
    out = tmp_path / app.HEADLESS_PREVIEW_NAME
    assert out.is_file()
    assert str(out) in result.stdout


def test_version() -> None:
    result = subprocess.run([sys.executable, "-m", "desktop", "--version"], capture_output=True, text=True,
                            timeout=120, cwd=REPO)
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_offscreen_is_chosen_only_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert not app.ensure_platform()
    assert "QT_QPA_PLATFORM" not in os.environ
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert app.ensure_platform()
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"


def test_old_view_name_realism_still_works_with_a_deprecation_note(capsys: pytest.CaptureFixture[str]) -> None:
    # "realism" is the FCN-score only; the discriminator's overlay is the critic view now.
    args = app.parse_args(["--view", "realism"])
    assert args.view == "critic"
    err = capsys.readouterr().err
    assert "--view realism is deprecated" in err and "--view critic" in err

    assert app.parse_args(["--view", "critic"]).view == "critic"
    assert capsys.readouterr().err == ""
    help_text = app.build_parser().format_help()
    assert "critic" in help_text and "realism" not in help_text
