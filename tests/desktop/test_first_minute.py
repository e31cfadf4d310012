"""The first minute (issue 20 §3): while the model loads the output pane says so (and what it is
doing), never "No model loaded"; the status bar's facts follow undo / redo and tool switches."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.desktop.app_helpers import scene_ids

CAR = 26


def test_the_output_pane_says_the_default_model_is_loading(make_window, qtbot) -> None:
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    seen: list[str] = []
    # Connected after the window's own slot: sees the pane's text as the window set it.
    window.preview.model_stage.connect(lambda _stage: seen.append(window.preview_panel.view.placeholder()))
    assert window.load_default_model()
    # At once, before the worker has done anything: the pane never says "No model loaded".
    assert window.preview_panel.view.placeholder() == "Loading default model…"
    assert window.status.model.text() == "Loading default.safetensors…"
    assert window.status.busy.isVisibleTo(window.status)
    with qtbot.waitSignal(window.preview_displayed, timeout=60_000):
        pass
    assert "Loading default model…\nReading default.safetensors…" in seen
    assert all(text.startswith("Loading default model…\n") for text in seen)
    assert window.last_output is not None and window.last_output.shape[:2] == window.session.document.shape
    assert window.status.model.text() == "Model: default.safetensors"


def test_a_model_that_fails_to_load_leaves_no_loading_message(make_window, qtbot, tmp_path: Path,
                                                               error_boxes) -> None:
    window = make_window()
    window.show()
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a checkpoint")
    from desktop.preview.worker import ModelSource

    with qtbot.waitSignal(window.preview.model_failed, timeout=30_000):
        window.load_model(ModelSource(path=bad))
        assert window.preview_panel.view.placeholder() == "Loading broken.safetensors…"
    assert "No model loaded" in window.preview_panel.view.placeholder()
    assert error_boxes and "broken.safetensors" in error_boxes[0][1]


def test_the_class_under_the_cursor_follows_undo_and_redo(make_window, qtbot,
                                                          mouse_for) -> None:
    window = make_window()
    window.resize(1300, 800)
    window.show()
    qtbot.waitExposed(window)
    window.session.load_ids(scene_ids(64, 128), None)
    window.canvas.fit()
    window.canvas.set_current_class(CAR)
    mouse = mouse_for(window.canvas)
    centre = window.canvas.document_to_widget(64.5, 56.5)  # the road (scene_ids: rows 35.. are road)
    point = (centre.x(), centre.y())
    assert window.canvas.rect().contains(centre.toPoint())
    mouse.move(point)
    assert window.status.label_class.text().startswith("7 road")
    mouse.drag([point, (point[0] + 2, point[1]), point])  # paint a car under the cursor
    assert window.status.label_class.text().startswith(f"{CAR} car")

    window.actions_.undo.trigger()  # the mouse has not moved: the status bar must still be right
    assert window.status.label_class.text().startswith("7 road")
    window.actions_.redo.trigger()
    assert window.status.label_class.text().startswith(f"{CAR} car")


def test_a_tool_switch_keeps_the_status_bar_current(make_window, qtbot, mouse_for) -> None:
    window = make_window()
    window.resize(1300, 800)
    window.show()
    qtbot.waitExposed(window)
    ids = np.full((40, 80), 23, np.uint8)  # all sky
    window.session.load_ids(ids, None)
    window.canvas.fit()
    assert window.canvas.width() > 100
    mouse_for(window.canvas).move((window.canvas.width() / 2, window.canvas.height() / 2))
    assert window.status.label_class.text().startswith("23 sky")
    window.status.label_class.setText("")  # as if something else had cleared it
    window.canvas.set_tool("fill")
    assert window.status.label_class.text().startswith("23 sky")


def test_the_window_does_not_wait_for_torch() -> None:
    """Importing the main window (all the app needs before show()) leaves torch unimported: the
    preview worker imports it with the default model, after the window is up (2-3 s of CPU)."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    code = "import sys, desktop.main_window; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(repo)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
