"""The one place Road Studio reads and writes image files.

Every failure becomes core.errors.BadFileError(path, reason) with a reason a user can act on:
"no such file", "empty file (0 bytes)", "not an image file", "truncated or corrupt image",
"image too large (W×H pixels, limit N)", "cannot be read: permission denied", ...
Nothing else escapes from the readers, so callers (dataset sources, the GUI, the CLI) can skip or
report a bad file without a traceback.

Conversions, decided once here:
- photos: grayscale, palette, RGBA/LA (alpha dropped), CMYK, YCbCr -> RGB. 16-bit grayscale
  (I;16, I;16B, I with values <= 65535) is *converted by scaling* 0..65535 -> 0..255, because a
  16-bit grey photo is still a photo. 32-bit float images (mode F) are rejected by name.
- label-id maps: single channel (L, P read as raw indices, I;16/I with values <= 33); values
  outside the Cityscapes table are rejected, naming the bad ids.
- label maps of unknown kind (GUI "open label map", `roadstudio-cli infer`): see read_label_map.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.io.atomic import atomic_path
from core.errors import BadFileError
from core.data.snap import snap_colors
from core.labels import ALL_CLASSES, ID_IS_VALID, ids_to_color

#: Largest label map side read_label_map accepts (the canvas never needs more).
MAX_LABEL_MAP_SIDE = 8192

# Colours of every Cityscapes class (not only the 20 painting classes): used to decide whether an
# image "looks like" a colour label map. Duplicates (several classes are black) are harmless.
_CLASS_COLORS = np.unique(np.array([c.color for c in ALL_CLASSES], dtype=np.int32), axis=0)
# A pixel is "near the palette" within this RGB distance; JPEG noise inside flat regions stays
# well below it, photo pixels mostly do not.
_NEAR_DISTANCE = 20.0
# Share of near pixels from which an image counts as a label map. Measured (JPEG quality 75):
# colour label maps 0.89-0.93 on the real Cityscapes pix2pix halves, >= 0.70 on synthetic scenes
# even at 64×64 (borders are a larger share of small maps); photos <= 0.45 (real) and <= 0.57
# (synthetic, whose surfaces are flatter).
_LABEL_LIKE_SHARE = 0.63

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _describe_os_error(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not an image file"
    return f"cannot be read: {exc.strerror or exc}"


def _open_image(path: str | Path) -> Image.Image:
    """Open and fully decode `path`, turning every failure into BadFileError."""
    p = Path(path)
    if not p.exists():
        raise BadFileError(p, "no such file")
    if p.is_dir():
        raise BadFileError(p, "is a folder, not an image file")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise BadFileError(p, _describe_os_error(exc)) from None
    if size == 0:
        raise BadFileError(p, "empty file (0 bytes)")
    try:
        with open(p, "rb") as fh:  # noqa: SIM117 - the comment below is about the inner block
            # Pillow warns between MAX_IMAGE_PIXELS and twice that and raises above; both mean
            # "too large" here (a label map or photo that big is a mistake or an attack).
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                try:
                    image = Image.open(fh)
                except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                    raise BadFileError(p, _too_large_reason(fh, exc)) from None
                except UnidentifiedImageError:
                    raise BadFileError(p, "not an image file") from None
                try:
                    image.load()
                except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                    raise BadFileError(p, _too_large_reason(fh, exc)) from None
                except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
                    if isinstance(exc, PermissionError):
                        raise
                    raise BadFileError(p, "truncated or corrupt image") from None
    except BadFileError:
        raise
    except OSError as exc:
        raise BadFileError(p, _describe_os_error(exc)) from None
    return image


def _too_large_reason(fh, exc: Exception) -> str:  # noqa: ANN001 - a binary file object
    """"image too large (W×H pixels, limit N)". Pillow's message has only the pixel count, and its
    bomb check runs inside Image.open, so read the header size through the format plugins directly
    (changing Image.MAX_IMAGE_PIXELS would race with other threads)."""
    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.init()
        fh.seek(0)
        prefix = fh.read(16)
        for format_id in Image.ID:
            factory, accept = Image.OPEN[format_id]
            if accept and not accept(prefix):
                continue
            fh.seek(0)
            try:
                header = factory(fh, "")
            except Exception:  # noqa: BLE001 - try the next plugin, as Image.open does
                continue
            w, h = header.size
            return f"image too large ({w}×{h} pixels, limit {limit})"
    except Exception:  # noqa: BLE001, S110 - the size is only a detail of the message
        pass
    return f"image too large ({exc}; limit {limit} pixels)"


def _image_to_rgb(image: Image.Image, path: Path) -> np.ndarray:
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image, dtype=np.uint8).copy()
    if mode == "F":
        raise BadFileError(path, "32-bit float image (mode F) is not supported; save it as 8-bit RGB")
    if mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise BadFileError(path, f"{mode} image with values outside 0..65535 is not supported")
        # Round-to-nearest scaling 0..65535 -> 0..255.
        gray = ((values * 255 + 32767) // 65535).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode in ("P", "PA"):
        # Through RGBA: Pillow warns when a palette image with transparency goes straight to RGB.
        image = image.convert("RGBA")
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def read_rgb(path: str | Path) -> np.ndarray:
    """A photo (any format Pillow reads) -> uint8 H×W×3 RGB, turned upright by its EXIF orientation
    (as image viewers and annotation tools show phone photos). Raises BadFileError."""
    p = Path(path)
    image = _open_image(p)
    # A broken EXIF block is not worth rejecting the photo for: use the stored pixels.
    with contextlib.suppress(OSError, ValueError, SyntaxError, KeyError, TypeError):
        image = ImageOps.exif_transpose(image)
    return _image_to_rgb(image, p)


_MODE_NAMES = {"L": "greyscale", "LA": "greyscale with alpha", "1": "black-and-white", "P": "palette",
               "PA": "palette with alpha", "RGBA": "RGBA (alpha dropped)", "CMYK": "CMYK", "YCbCr": "YCbCr",
               "I;16": "16-bit greyscale", "I;16B": "16-bit greyscale", "I;16L": "16-bit greyscale",
               "I;16N": "16-bit greyscale", "I": "32-bit integer greyscale"}


@dataclass(frozen=True)
class PhotoRead:
    """A photo as read_photo hands it out, with what was done to it on the way."""

    rgb: np.ndarray  # uint8 H×W×3, upright
    format: str  # Pillow's format name: JPEG, PNG, WEBP, ...
    mode: str  # the file's own pixel mode (RGB, L, CMYK, I;16, ...)
    orientation: int  # EXIF orientation tag (1 = as stored)
    notes: tuple[str, ...]  # one phrase per conversion, e.g. "CMYK converted to RGB"


def read_photo(path: str | Path) -> PhotoRead:
    """read_rgb, saying what it did: EXIF orientation applied, mode converted. Raises BadFileError."""
    p = Path(path)
    image = _open_image(p)
    fmt, mode = image.format or "", image.mode
    notes: list[str] = []
    orientation = 1
    try:
        orientation = int(image.getexif().get(0x0112, 1) or 1)
        image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        orientation = 1  # a broken EXIF block is not worth rejecting the photo for
    if orientation != 1:
        notes.append(f"EXIF orientation {orientation} applied")
    if mode != "RGB":
        notes.append(f"{_MODE_NAMES.get(mode, mode)} converted to RGB")
    return PhotoRead(rgb=_image_to_rgb(image, p), format=fmt, mode=mode, orientation=orientation,
                     notes=tuple(notes))


def _single_channel_ids(image: Image.Image, path: Path) -> np.ndarray | None:
    """Raw values of a single-channel image as label ids, or None when it is not single-channel."""
    mode = image.mode
    if mode in ("L", "P"):
        values = np.asarray(image, dtype=np.uint8)
    elif mode == "1":
        values = np.asarray(image.convert("L"), dtype=np.uint8)
    elif mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)
        if values.size and (values.min() < 0 or values.max() > 255):
            bad = np.unique(values[(values < 0) | (values > 255) | ~ID_IS_VALID[np.clip(values, 0, 255)]])
            raise BadFileError(path, _bad_ids_reason(bad))
        values = values.astype(np.uint8)
    else:
        return None
    bad = _invalid_ids(values)
    if bad.size:
        raise BadFileError(path, _bad_ids_reason(bad))
    return np.array(values, dtype=np.uint8, order="C")  # a writable copy (Pillow's arrays are read-only)


def _invalid_ids(values: np.ndarray) -> np.ndarray:
    """Distinct uint8 values that are not Cityscapes label ids (core.labels.invalid_ids, but with a
    256-bin count instead of a sort: ~3× faster on a 1024×2048 map)."""
    present = np.flatnonzero(np.bincount(values.ravel(), minlength=256))
    return present[~ID_IS_VALID[present]]


def _bad_ids_reason(bad: np.ndarray) -> str:
    shown = ", ".join(str(int(v)) for v in bad[:10]) + (", ..." if bad.size > 10 else "")
    return f"label ids outside the Cityscapes table (0..33): {shown}"


def read_label_ids(path: str | Path) -> np.ndarray:
    """A labelIds PNG (mode L, P read as raw indices, or 16-bit with values <= 33) -> uint8 H×W."""
    p = Path(path)
    image = _open_image(p)
    ids = _single_channel_ids(image, p)
    if ids is None:
        if image.mode in ("RGB", "RGBA"):
            rgb = np.asarray(image.convert("RGB"))
            if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
                ids = np.array(rgb[..., 0], order="C")  # ids saved as grey RGB: still raw ids
                bad = _invalid_ids(ids)
                if bad.size:
                    raise BadFileError(p, _bad_ids_reason(bad))
                return ids
            raise BadFileError(p, "is a colour image, not a label-id map (expected one channel of ids 0..33)")
        raise BadFileError(p, f"unsupported image mode {image.mode} for a label-id map")
    return ids


def read_index_map(path: str | Path) -> np.ndarray:
    """A single-channel map of class indices of *another* dataset's table (e.g. SegNet's CamVid
    PNGs, values 0..11) -> its raw values as uint8 H×W, without checking them against the Cityscapes
    table: the caller maps them with its own table and rejects values outside it. Accepts L, P
    (raw indices), 1, 16-bit with values <= 255, and grey RGB (equal channels)."""
    p = Path(path)
    image = _open_image(p)
    mode = image.mode
    if mode in ("L", "P"):
        return np.asarray(image, dtype=np.uint8)  # read-only view: callers map it through a table
    if mode == "1":
        return np.asarray(image.convert("L"), dtype=np.uint8)
    if mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)
        if values.size and (values.min() < 0 or values.max() > 255):
            bad = np.unique(values[(values < 0) | (values > 255)])
            shown = ", ".join(str(int(v)) for v in bad[:10]) + (", ..." if bad.size > 10 else "")
            raise BadFileError(p, f"class indices outside 0..255: {shown}")
        return values.astype(np.uint8)
    if mode in ("RGB", "RGBA"):
        rgb = np.asarray(image.convert("RGB"))
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
            return np.ascontiguousarray(rgb[..., 0])  # indices saved as grey RGB: still indices
        raise BadFileError(p, "is a colour image, not a map of class indices (expected one channel)")
    raise BadFileError(p, f"unsupported image mode {mode} for a map of class indices")


def near_palette_share(rgb: np.ndarray, step: int = 2) -> float:
    """Share of pixels (sampled every `step` pixels) within a small distance of a Cityscapes class
    colour: near 1 for colour label maps (even as JPEG), low for photos."""
    sample = rgb[::step, ::step].reshape(-1, 3)
    if sample.size == 0:
        return 0.0
    packed = (sample[:, 0].astype(np.uint32) << 16) | (sample[:, 1].astype(np.uint32) << 8) | sample[:, 2]
    uniq, counts = np.unique(packed, return_counts=True)
    colors = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.int32)
    diff = colors[:, None, :] - _CLASS_COLORS[None, :, :]
    nearest = np.einsum("upc,upc->up", diff, diff).min(axis=1)
    near = nearest <= _NEAR_DISTANCE**2
    return float(counts[near].sum() / counts.sum())


def looks_like_label_map(rgb: np.ndarray) -> bool:
    return near_palette_share(rgb) >= _LABEL_LIKE_SHARE


class NotALabelMapError(BadFileError):
    """The file reads as an image but looks like a photo, not a label map: the app offers to
    segment it instead (desktop: File ▸ Open photo…)."""


@dataclass(frozen=True)
class LabelMapRead:
    ids: np.ndarray  # uint8 H×W label ids
    # how the file was interpreted ("camvid11": SegNet CamVid indices, core.data.camvid.read_label_file)
    kind: Literal["ids", "color", "aligned", "camvid11"]
    snapped: int  # pixels whose colour was not exactly a palette colour (0 for "ids")
    total: int

    @property
    def snapped_share(self) -> float:
        return self.snapped / self.total if self.total else 0.0


def read_label_map(path: str | Path) -> LabelMapRead:
    """Any label map a user may hand us -> label ids.

    - single channel (L, P with raw indices or a Cityscapes-coloured palette, 16-bit): ids as is;
    - RGB colour label map: snapped to the palette (core.data.snap; the snapped share is reported);
    - a pix2pix A|B image (W = 2H, one half a photo): the half that looks like a label map.
    A 256×512 colour label map is also W = 2H, so the choice is made by content: when both halves
    look like label maps it is one plain colour map. An image that does not look like a label map
    at all (a photo) is rejected.
    """
    p = Path(path)
    image = _open_image(p)
    w, h = image.size
    if max(w, h) > MAX_LABEL_MAP_SIDE:
        raise BadFileError(p, f"label map too large ({w}×{h}, limit {MAX_LABEL_MAP_SIDE} px a side)")
    if image.mode == "P" and _palette_is_colour(image):
        pass  # an indexed colour image (e.g. from an image editor): read its colours below
    else:
        ids = _single_channel_ids(image, p)
        if ids is not None:
            return LabelMapRead(ids=ids, kind="ids", snapped=0, total=ids.size)
    rgb = _image_to_rgb(image, p)
    if w == 2 * h:
        left, right = rgb[:, :h], rgb[:, h:]
        left_like, right_like = looks_like_label_map(left), looks_like_label_map(right)
        if left_like != right_like:
            snap = snap_colors(np.ascontiguousarray(left if left_like else right))
            return LabelMapRead(ids=snap.ids, kind="aligned", snapped=snap.snapped, total=snap.total)
    if not looks_like_label_map(rgb):
        raise NotALabelMapError(
            p, f"does not look like a label map (only {near_palette_share(rgb):.0%} of pixels "
               "are near a Cityscapes class colour); is it a photo?")
    snap = snap_colors(rgb)
    return LabelMapRead(ids=snap.ids, kind="color", snapped=snap.snapped, total=snap.total)


def _palette_is_colour(image: Image.Image) -> bool:
    """True when a palette image's used entries are real colours (not grey, not the Cityscapes id
    colours for their own index): its indices then mean nothing and its colours must be snapped."""
    palette = np.array(image.getpalette() or [], dtype=np.int32).reshape(-1, 3)
    used = np.unique(np.asarray(image))
    used = used[used < len(palette)]
    if used.size == 0:
        return False
    entries = palette[used]
    grey = (entries[:, 0] == entries[:, 1]) & (entries[:, 1] == entries[:, 2])
    if grey.all():
        return False  # a grey ramp: indices are the ids
    cityscapes = ids_to_color(used.astype(np.uint8)).astype(np.int32)
    # ids with the Cityscapes colours as palette: indices are the ids
    return not (np.array_equal(entries, cityscapes) and ID_IS_VALID[used].all())


def write_png(path: str | Path, array: np.ndarray) -> None:
    """Write uint8 H×W (grey), H×W×3 (RGB) or H×W×4 (RGBA) as PNG, atomically."""
    arr = np.ascontiguousarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"write_png expects uint8, got {arr.dtype}")
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(f"write_png expects H×W, H×W×3 or H×W×4, got shape {arr.shape}")
    image = Image.fromarray(arr)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def write_label_ids_png(path: str | Path, ids: np.ndarray) -> None:
    """Label ids -> a single-channel PNG in the Cityscapes `*_labelIds.png` format."""
    if ids.dtype != np.uint8 or ids.ndim != 2:
        raise ValueError(f"label ids must be uint8 H×W, got {ids.dtype} {ids.shape}")
    bad = _invalid_ids(ids)
    if bad.size:
        raise ValueError(_bad_ids_reason(bad))
    write_png(path, ids)


def write_color_png(path: str | Path, ids: np.ndarray) -> None:
    """Label ids -> an RGB PNG in the Cityscapes colours (`*_color.png`)."""
    if ids.dtype != np.uint8 or ids.ndim != 2:
        raise ValueError(f"label ids must be uint8 H×W, got {ids.dtype} {ids.shape}")
    write_png(path, ids_to_color(ids))
