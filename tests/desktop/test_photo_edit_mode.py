"""Edit mode in the app (issue 19 §4): with a photo open, the output panel is the photo itself,
changed only where its labels were repainted (the worker's PhotoEditor: by default the clone
renderer, which fills a painted-over car with the photo's own road; or the bundled photo-edit
model); undo brings the photo back bit for bit; File ▸ Export edited photo… writes the edit with
provenance naming the photo and the models. A real CamVid test photo, scaled down,
painted with real mouse drags; the arrays checked are the worker's results, not screenshots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.edit.masks import EDIT_DILATION, dilate
from core.io.resources import resource_path
from core.render import provenance
from tests.desktop.test_open_photo import CAMVID_PHOTO, WAIT_MS, open_photo, trigger_shortcut

pytestmark = pytest.mark.skipif(not CAMVID_PHOTO.is_file(), reason="../shared/data/camvid is not present")

ROAD, CAR = 7, 26


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """The real CamVid test photo scaled down to 192×144 (its parked cars stay a few px tall)."""
    out = tmp_path / "street.png"
    with Image.open(CAMVID_PHOTO) as im:
        im.convert("RGB").resize((192, 144), Image.Resampling.LANCZOS).save(out)
    return out


def wait_for_output_of_document(window, qtbot) -> np.ndarray:
    """The output the worker made from the document as it is now (waits for it)."""
    doc = window.session.document

    def current() -> bool:
        shown = window.preview.last_shown
        return (shown is not None and shown.photo is window.session.photo and shown.version == doc.version
                and np.array_equal(shown.ids, doc.ids) and window.last_output is not None)

    qtbot.waitUntil(current, timeout=WAIT_MS)
    return window.last_output


def paint_road_over_the_largest_car(window, mouse_for) -> None:
    ids = window.session.photo.original_ids
    ys, xs = np.nonzero(ids == CAR)
    assert len(ys) > 20, "this frame has parked cars"
    # The car pixels' bounding rows, one horizontal drag per row band through their columns.
    x0, x1 = int(np.percentile(xs, 10)), int(np.percentile(xs, 90))
    y = float(np.median(ys))
    canvas = window.canvas
    window._select_class(ROAD)
    canvas.set_brush_size(9)
    mouse = mouse_for(canvas)
    a, b = canvas.document_to_widget(x0 + 0.5, y), canvas.document_to_widget(x1 + 0.5, y)
    steps = [(a.x() + (b.x() - a.x()) * t / 8, a.y()) for t in range(9)]
    mouse.drag(steps)


def test_painting_road_over_a_car_changes_the_photo_only_there_and_undo_restores_it(
        make_window, qtbot, photo, monkeypatch, mouse_for, tmp_path) -> None:
    window = make_window()
    window.resize(1100, 650)
    window.show()
    assert not window.preview_panel.title.isVisible()  # no photo: the usual preview, untitled
    open_photo(window, qtbot, photo, monkeypatch)
    source = window.session.photo

    # Opened, nothing edited: the output is the photo, byte for byte, and says it is an edit.
    out = wait_for_output_of_document(window, qtbot)
    np.testing.assert_array_equal(out, source.rgb)
    assert window.preview_panel.title.isVisible()
    assert "Photo edit (clone: the photo's own pixels)" in window.preview_panel.title.text()  # the default
    assert window.edit_export.action.isEnabled()

    paint_road_over_the_largest_car(window, mouse_for)
    doc = window.session.document
    changed = source.changed_mask(doc.ids)
    assert changed.sum() > 20 and set(np.unique(doc.ids[changed]).tolist()) == {ROAD}
    region = dilate(changed, EDIT_DILATION)

    # The default output, clone: the car's pixels become the photo's own road.
    cloned = wait_for_output_of_document(window, qtbot)
    shown = window.preview.last_shown
    assert shown.edit is not None and shown.renderer == "clone"
    np.testing.assert_array_equal(shown.edit.region, region)
    np.testing.assert_array_equal(cloned[~region], source.rgb[~region])  # untouched outside, bit for bit
    inner = shown.edit.alpha == 1
    assert inner[changed].mean() > 0.5

    def codes(rgb: np.ndarray) -> np.ndarray:
        return rgb[..., 0].astype(np.int64) << 16 | rgb[..., 1].astype(np.int64) << 8 | rgb[..., 2]

    road_outside = codes(source.rgb[~region & (source.original_ids == ROAD)])
    # each repainted pixel is one of the photo's own road pixels (from outside the edit)
    assert np.isin(codes(cloned[inner & changed]), road_outside).mean() > 0.9

    # Output ▸ photo-edit model: the car repainted by the bundled photo-edit generator.
    combo = window.photo.bar.output_combo
    combo.setCurrentIndex(combo.findData("photo-edit"))
    qtbot.waitUntil(lambda: window.preview.last_shown.renderer == "photo-edit", timeout=WAIT_MS)
    out = wait_for_output_of_document(window, qtbot)
    shown = window.preview.last_shown
    assert "Photo edit (photo-edit model)" in window.preview_panel.title.text()
    assert shown.model is not None and shown.model.name == "photo_edit.safetensors"
    np.testing.assert_array_equal(shown.edit.region, region)
    assert out.shape == source.rgb.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[~region], source.rgb[~region])  # untouched outside, bit for bit
    assert np.abs(out[changed].astype(int) - source.rgb[changed].astype(int)).mean() > 3  # the car repainted
    assert not np.array_equal(out, cloned)

    # Export: the edit on screen, with the photo's SHA-256, the models and the edited labels.
    import desktop.photo.export as export

    target = tmp_path / "out" / "street_edited.png"
    target.parent.mkdir()
    monkeypatch.setattr(export.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.session.saved, timeout=WAIT_MS):
        window.edit_export.action.trigger()
    with Image.open(target) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), out)
    record = provenance.read(target)
    fields = record.fields
    assert fields["kind"] == "edit" and fields["renderer"] == "photo-edit"
    assert fields["photo_name"] == "street.png" and fields["photo_sha256"] == provenance.file_sha256(photo)
    model_file = resource_path("models", "photo_edit.safetensors")
    assert fields["checkpoint_name"] == "photo_edit.safetensors"
    assert fields["checkpoint_sha256"] == provenance.file_sha256(model_file)
    assert fields["segmenter_name"] == source.segmenter and fields["segmenter_sha256"] == source.segmenter_sha256
    assert fields["original_labels_sha256"] == provenance.labels_sha256(source.original_ids)
    assert int(fields["edited_pixels"]) == int(changed.sum())
    np.testing.assert_array_equal(record.labels, doc.ids)
    assert not list(target.parent.glob("*.tmp*"))  # written atomically: nothing left beside it

    side_path = tmp_path / "out" / "street_before_after"  # no suffix: .png is added
    monkeypatch.setattr(export.QFileDialog, "getSaveFileName", lambda *a, **k: (str(side_path), ""))
    with qtbot.waitSignal(window.session.saved, timeout=WAIT_MS):
        window.edit_export.before_after_action.trigger()
    with Image.open(side_path.with_name("street_before_after.png")) as im:
        side = np.asarray(im.convert("RGB"))
    w = source.rgb.shape[1]
    np.testing.assert_array_equal(side[:, :w], source.rgb)
    np.testing.assert_array_equal(side[:, w:], out)
    assert provenance.read(side_path.with_name("street_before_after.png")).fields["layout"] == "photo | edited"

    # Undo the stroke: the labels are the segmenter's again and the output is the photo again.
    trigger_shortcut(window, "Ctrl+Z")
    np.testing.assert_array_equal(doc.ids, source.original_ids)
    out = wait_for_output_of_document(window, qtbot)
    np.testing.assert_array_equal(out, source.rgb)

    # Output ▸ Generated from the labels: the usual preview again (no model loaded: no edit shown).
    window.photo.bar.output_combo.setCurrentIndex(window.photo.bar.output_combo.findData(None))
    assert window.preview.edit_photo() is None


def test_exporting_over_the_photo_itself_is_refused_with_a_named_message(
        make_window, qtbot, photo, monkeypatch, error_boxes) -> None:
    window = make_window()
    window.show()
    open_photo(window, qtbot, photo, monkeypatch)
    wait_for_output_of_document(window, qtbot)
    import desktop.photo.export as export

    monkeypatch.setattr(export.QFileDialog, "getSaveFileName", lambda *a, **k: (str(photo), ""))
    before = photo.read_bytes()
    window.edit_export.action.trigger()
    assert error_boxes and "street.png" in error_boxes[-1][1] and "never over the photo" in error_boxes[-1][1]
    assert photo.read_bytes() == before


def test_remove_object_tool_clicks_a_car_out_of_the_photo_and_undo_brings_it_back(
        make_window, qtbot, photo, monkeypatch, mouse_for) -> None:
    window = make_window()
    window.resize(1100, 650)
    window.show()
    open_photo(window, qtbot, photo, monkeypatch)
    source = window.session.photo
    ids = source.original_ids
    # A pixel of the largest car: the one nearest the middle of its pixels.
    ys, xs = np.nonzero(ids == CAR)
    k = int(np.argmin((ys - np.median(ys)) ** 2 + (xs - np.median(xs)) ** 2))
    y, x = int(ys[k]), int(xs[k])
    window.tool_bar.tool_actions["remove"].trigger()  # what a click on Remove object does
    canvas = window.canvas
    assert canvas.tool == "remove"
    at = canvas.document_to_widget(x + 0.5, y + 0.5)
    mouse_for(canvas).click((at.x(), at.y()))

    doc = window.session.document
    changed = source.changed_mask(doc.ids)
    assert changed[y, x] and (ids[changed] == CAR).all()  # only car pixels were relabelled …
    assert not (doc.ids[changed] == CAR).any()  # … to what surrounds them
    out = wait_for_output_of_document(window, qtbot)
    shown = window.preview.last_shown
    assert shown.renderer == "clone" and shown.edit is not None
    region = dilate(changed, EDIT_DILATION)
    np.testing.assert_array_equal(out[~region], source.rgb[~region])
    assert (out[changed] != source.rgb[changed]).any(axis=1).mean() > 0.5  # the car is painted over

    trigger_shortcut(window, "Ctrl+Z")  # one click, one undo step
    np.testing.assert_array_equal(doc.ids, source.original_ids)
    np.testing.assert_array_equal(wait_for_output_of_document(window, qtbot), source.rgb)
