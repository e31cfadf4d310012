"""Provenance: which model made an image, from which painting, and how to make it again.

Every PNG the app or the CLI renders carries PNG text chunks (`tEXt`, keys prefixed
`roadstudio.`) with the app version, the checkpoint's SHA-256, name and step, the input encoding,
the variation seed (or "deterministic"), the palette version, the SHA-256 of the label map, the
device and inference path, and the label map itself (a compressed `zTXt` chunk holding a base64
labelIds PNG, a few KB). So the image alone says how to reproduce it:

    roadstudio-cli info IMAGE.png                         # print the record
    roadstudio-cli info IMAGE.png --labels-out L.png      # the painting it was rendered from
    roadstudio-cli info IMAGE.png --verify CKPT           # render again, compare bit for bit

Rendering the recorded label map with the recorded checkpoint and seed on the same device and
inference path reproduces the image bit-exactly (tests/core/test_provenance.py). No Qt here: the
desktop writers call these functions too.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from core import __version__
from core.io.atomic import atomic_path
from core.errors import BadFileError
from core.labels import PALETTE

PREFIX = "roadstudio."
LABELS_KEY = PREFIX + "labels_png_base64"
#: Keys in the order `info` prints them.
FIELDS = ("kind", "app_version", "checkpoint_name", "checkpoint_step", "checkpoint_sha256", "input_encoding",
          "variation", "palette_version", "labels_sha256", "labels_shape", "device", "backend", "layout",
          "compare_checkpoint_name", "compare_checkpoint_step", "compare_checkpoint_sha256", "run", "step")

_HASH_CHUNK = 1 << 20


def _palette_version() -> str:
    # A digest of the painting classes (id, name, colour): changes exactly when the class table
    # or its colours change, so an old image says which palette its label map used.
    text = ";".join(f"{c.id}:{c.name}:{c.color}" for c in PALETTE)
    return "p1-" + hashlib.sha256(text.encode()).hexdigest()[:12]


PALETTE_VERSION = _palette_version()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, streamed (a 200 MB checkpoint takes well under a second)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def labels_sha256(ids: np.ndarray) -> str:
    """SHA-256 of a label map: its shape and its uint8 bytes (row-major)."""
    arr = np.ascontiguousarray(ids, dtype=np.uint8)
    digest = hashlib.sha256(f"{arr.shape[0]}x{arr.shape[1]}:".encode())
    digest.update(arr.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelStamp:
    """What identifies the generator that rendered an image."""

    name: str
    sha256: str
    step: int | None = None
    input_encoding: str = "onehot"

    @classmethod
    def for_file(cls, path: str | Path, *, step: Any = None, input_encoding: str = "onehot") -> ModelStamp:
        p = Path(path)
        return cls(name=p.name, sha256=file_sha256(p), step=_int_or_none(step), input_encoding=input_encoding)


@dataclass(frozen=True)
class Provenance:
    """The record written into an image. `labels` (the label map) is embedded when given."""

    kind: str  # output, side_by_side, compare, pinned_strip, infer, screenshot
    model: ModelStamp | None
    labels: np.ndarray | None = field(default=None, repr=False, compare=False)
    variation: int | None = None
    device: str | None = None
    backend: str | None = None
    layout: str | None = None  # how the pixels are arranged, e.g. "labels | output"
    compare: ModelStamp | None = None  # the B model of an A/B comparison
    extra: dict[str, str] = field(default_factory=dict)

    def text_chunks(self) -> dict[str, str]:
        """Key -> value strings, keys prefixed with `roadstudio.` (the label map excluded)."""
        rows: dict[str, str] = {"kind": self.kind, "app_version": __version__, "palette_version": PALETTE_VERSION,
                                "variation": "deterministic" if self.variation is None else str(int(self.variation))}
        if self.model is not None:
            rows.update(checkpoint_name=self.model.name, checkpoint_sha256=self.model.sha256,
                        input_encoding=self.model.input_encoding)
            if self.model.step is not None:
                rows["checkpoint_step"] = str(self.model.step)
        if self.compare is not None:
            rows.update(compare_checkpoint_name=self.compare.name, compare_checkpoint_sha256=self.compare.sha256)
            if self.compare.step is not None:
                rows["compare_checkpoint_step"] = str(self.compare.step)
        if self.labels is not None:
            rows["labels_sha256"] = labels_sha256(self.labels)
            rows["labels_shape"] = f"{self.labels.shape[0]}x{self.labels.shape[1]}"
        for key, value in (("device", self.device), ("backend", self.backend), ("layout", self.layout)):
            if value:
                rows[key] = value
        rows.update({k: str(v) for k, v in self.extra.items()})
        return {PREFIX + k: v for k, v in rows.items()}


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _labels_png_base64(ids: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(ids, dtype=np.uint8), mode="L").save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def png_info(record: Provenance | None) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    if record is None:
        return info
    for key, value in record.text_chunks().items():
        info.add_text(key, value)
    if record.labels is not None:
        info.add_text(LABELS_KEY, _labels_png_base64(record.labels), zip=True)
    return info


def write_png(path: str | Path, array: np.ndarray, record: Provenance | None) -> Path:
    """uint8 H×W×3 (or H×W, H×W×4) -> PNG with the provenance chunks, atomically. OSError on failure."""
    arr = np.ascontiguousarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"write_png expects uint8, got {arr.dtype}")
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(f"write_png expects H×W, H×W×3 or H×W×4, got shape {arr.shape}")
    p = Path(path)
    with atomic_path(p) as tmp:
        Image.fromarray(arr).save(tmp, format="PNG", pnginfo=png_info(record))
    return p


# ------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class ReadProvenance:
    path: Path
    fields: dict[str, str]  # without the prefix, label map excluded
    labels: np.ndarray | None  # the embedded label map, when present and intact

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)

    @property
    def variation(self) -> int | None:
        value = self.fields.get("variation", "deterministic")
        return None if value == "deterministic" else int(value)


def read(path: str | Path) -> ReadProvenance:
    """The provenance chunks of a PNG. BadFileError for an unreadable file or one without them."""
    p = Path(path)
    if not p.is_file():
        raise BadFileError(p, "no such file" if not p.exists() else "is a folder, not an image file")
    try:
        with Image.open(p) as image:
            image.load()  # text chunks after the image data are read only now
            text = dict(getattr(image, "text", {}) or {})
    except (OSError, SyntaxError, ValueError, zlib.error) as exc:
        raise BadFileError(p, f"not a readable image ({exc})") from None
    fields = {k[len(PREFIX):]: v for k, v in text.items() if k.startswith(PREFIX) and k != LABELS_KEY}
    if not fields:
        raise BadFileError(p, "carries no Road Studio provenance (it was not rendered by Road Studio "
                              "0.1 or later, or an editor dropped the PNG text chunks)")
    labels = None
    if LABELS_KEY in text:
        try:
            raw = base64.b64decode(text[LABELS_KEY], validate=True)
            with Image.open(io.BytesIO(raw)) as embedded:
                labels = np.array(embedded.convert("L"), dtype=np.uint8)
        except (OSError, ValueError, SyntaxError):
            labels = None
        if labels is not None and fields.get("labels_sha256") not in (None, labels_sha256(labels)):
            labels = None  # damaged: never hand out a map that does not match its own hash
    return ReadProvenance(path=p, fields=fields, labels=labels)


def format_record(record: ReadProvenance) -> list[tuple[str, str]]:
    """Rows for printing: the known fields in FIELDS order, then any others."""
    rows = [(k, record.fields[k]) for k in FIELDS if k in record.fields]
    rows += [(k, v) for k, v in sorted(record.fields.items()) if k not in FIELDS]
    rows.append(("labels_embedded", "yes" if record.labels is not None else "no"))
    return rows


# ------------------------------------------------------------------------------- reproducing


def rendered_part(record: ReadProvenance, image: np.ndarray) -> np.ndarray:
    """The generated pixels of an image written with `record` (the right half of a side-by-side)."""
    layout = record.get("layout") or ""
    if record.get("kind") == "side_by_side" or layout == "labels | output":
        return image[:, image.shape[1] // 2:]
    return image


def reproduce(record: ReadProvenance, checkpoint: str | Path, *, device: str | None = None,
              backend: str | None = None) -> np.ndarray:
    """Render the recorded label map with `checkpoint` and the recorded seed, on the recorded device
    and inference path unless given. UserError when the checkpoint is not the recorded one or the
    image carries no label map."""
    from core.errors import UserError
    from core.render.infer import Predictor

    if record.labels is None:
        raise UserError(f"{record.path}: no embedded label map to render (only its SHA-256 is recorded)")
    wanted = record.get("checkpoint_sha256")
    actual = file_sha256(checkpoint)
    if wanted and wanted != actual:
        raise UserError(f"{checkpoint}: SHA-256 {actual[:12]}… is not the recorded checkpoint "
                        f"{record.get('checkpoint_name')} ({wanted[:12]}…)")
    recorded_device = (record.get("device") or "cpu").split(":")[0]
    predictor = Predictor.from_path(checkpoint, device or recorded_device,
                                    backend=backend or record.get("backend") or "eager", background_build=False)
    try:
        return predictor.predict(record.labels, variation=record.variation)
    finally:
        predictor.close()
