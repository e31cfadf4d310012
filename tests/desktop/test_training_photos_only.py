"""Train on your own photos, no labelling (issue 19 §5): the training panel accepts a folder of
photos alone, and starting the run labels them with the bundled segmenter (in the panel's worker,
with progress) into the run folder, then trains a tiny model on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.io.imageio import read_label_ids
from core.train.events import Finished, Warning_
from tests.desktop.test_training_panel import Recorder, click, make_panel, wait_idle

CAMVID_TEST = Path(__file__).resolve().parents[3] / "shared" / "data" / "camvid" / "test"
WAIT_MS = 240_000


@pytest.mark.slow  # segments 3 photos and trains a few steps: ~15-30 s on a shared 2-core machine
@pytest.mark.skipif(not CAMVID_TEST.is_dir(), reason="../shared/data/camvid is not present")
def test_a_folder_of_photos_is_labelled_by_the_segmenter_and_trained_on(qtbot, tmp_path: Path) -> None:
    photos = tmp_path / "dashcam"
    photos.mkdir()
    for src in sorted(CAMVID_TEST.glob("*.png"))[:3]:
        with Image.open(src) as im:
            im.convert("RGB").resize((64, 48), Image.Resampling.LANCZOS).save(photos / src.name)
    (photos / "broken.png").write_bytes((photos / src.name).read_bytes()[:150])  # a truncated photo

    runs = tmp_path / "runs"
    panel = make_panel(qtbot, runs, epochs=1)
    panel.set_test_sources(None)  # the real folder
    rec = Recorder(panel)
    form = panel.form
    form.folder_edit.setText(str(photos))
    click(qtbot, form.folder_radio)
    qtbot.waitUntil(lambda: not form.probe_pending, timeout=WAIT_MS)
    assert form.check_label.text().startswith("photos only: labels will be made by the segmenter"), \
        form.check_label.text()
    assert panel.start_button.isEnabled(), panel.status_label.text()

    labelling: list[str] = []
    panel.monitor.state_label.setText("")
    click(qtbot, panel.start_button)

    def labelling_shown() -> bool:
        labelling.append(panel.monitor.state_label.text())
        return "Labelling the photos" in labelling[-1] or not panel.is_running

    qtbot.waitUntil(labelling_shown, timeout=WAIT_MS)
    wait_idle(qtbot, panel)
    assert not rec.failures, rec.failures
    assert any("Labelling the photos with the segmenter" in text for text in labelling)
    assert rec.of(Finished), [type(e).__name__ for e in rec.events]

    out = runs / "tiny" / "autolabelled"
    written = sorted(p.name for p in (out / "B").glob("*.png"))
    assert written == sorted(p.name for p in photos.glob("0*.png"))  # every good photo, not the broken one
    ids = read_label_ids(out / "B" / written[0])
    assert ids.shape == (48, 64) and {7, 23} & set(np.unique(ids).tolist())
    warnings = [e.message for e in rec.of(Warning_)]
    assert any("broken.png" in m for m in warnings), warnings
    assert (runs / "tiny" / "checkpoints").is_dir() and list((runs / "tiny" / "checkpoints").glob("*.safetensors"))
