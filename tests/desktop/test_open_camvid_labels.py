"""Opening a CamVid label file in the app (issue 19 §3): a SegNet `*annot/*.png` of class indices
0..11 is read with the CamVid table (sky stays sky, cars stay cars), not as Cityscapes ids."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.data.camvid_classes import CAMVID11_LUT
from core.io.imageio import read_index_map
from desktop.scene.files import open_label_map

ANNOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "camvid" / "testannot" / "0001TP_008550.png"


@pytest.mark.skipif(not ANNOT.is_file(), reason="../shared/data/camvid is not present")
def test_open_label_map_reads_a_camvid_label_file_with_the_camvid_table(tmp_path: Path) -> None:
    copy = Path(shutil.copy(ANNOT, tmp_path / "frame.png"))  # outside its annot folder too
    for path in (ANNOT, copy):
        opened = open_label_map(path)
        assert opened.kind == "camvid11"
        np.testing.assert_array_equal(opened.ids, CAMVID11_LUT[read_index_map(ANNOT)])
        assert "CamVid label file" in opened.summary()
    sky = opened.ids == 23
    assert sky[:40].mean() > 0.3  # the top rows of this frame are sky (read as Cityscapes ids: unlabeled)
