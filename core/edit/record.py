"""The provenance of an edited photo (core.render.provenance), one record for every writer:
`roadstudio-cli edit` and the app's File ▸ Export edited photo… write the same fields, so
`roadstudio-cli info OUT.png` names the photo, the model and the segmenter either way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.render import provenance

if TYPE_CHECKING:
    import numpy as np



def edit_record(*, model: provenance.ModelStamp | None, renderer: str, edited_pixels: int, repainted_pixels: int,
                photo_name: str, photo_sha256: str,
                segmenter_name: str, segmenter_sha256: str, original_ids: np.ndarray, edited_ids: np.ndarray,
                device: str | None, backend: str | None, notes: tuple[str, ...] = (),
                edited_labels_name: str | None = None) -> provenance.Provenance:
    """The record of an edit of the photo `photo_name` by `renderer` with `model` (kind "edit"; the
    edited label map is embedded, the segmenter's own labels are named by their SHA-256;
    `edited_pixels` / `repainted_pixels` are the relabelled pixels and the dilated region)."""
    extra = {
        "photo_name": photo_name, "photo_sha256": photo_sha256, "renderer": renderer,
        "segmenter_name": segmenter_name, "segmenter_sha256": segmenter_sha256,
        "original_labels_sha256": provenance.labels_sha256(original_ids),
        "edited_pixels": str(int(edited_pixels)), "repainted_pixels": str(int(repainted_pixels)),
    }
    if edited_labels_name:
        extra["edited_labels_name"] = edited_labels_name
    if notes:
        extra["photo_notes"] = "; ".join(notes)
    return provenance.Provenance(kind="edit", model=model, labels=edited_ids, device=device,
                                 backend=backend or None, extra=extra)


def before_after_record(record: provenance.Provenance) -> provenance.Provenance:
    """The record of photo | edited side by side, made from the edit's own record."""
    return provenance.Provenance(kind="edit_before_after", model=record.model, labels=record.labels,
                                 device=record.device, backend=record.backend, layout="photo | edited",
                                 extra=record.extra)
