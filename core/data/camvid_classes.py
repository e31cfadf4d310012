"""CamVid's classes and the one table that maps them to Cityscapes label ids.

CamVid comes in two label forms:
- SegNet's 11-class grouping (uint8 PNGs of class indices 0..11, the layout of
  ../shared/data/camvid/): CAMVID11_CLASSES, CAMVID11_TO_LABEL_ID, CAMVID11_LUT;
- the original release's 32 classes (RGB colour PNGs `*_L.png`): CAMVID32_CLASSES (name, colour),
  CAMVID32_TO_LABEL_ID, plus a colour -> class-index lookup.

Every CamVid class maps to one of the 19 evaluated Cityscapes classes or to 0 (unlabeled): the
model input knows only those 20 (core.labels.PALETTE), so a non-evaluated Cityscapes id such as
bridge (15) or parking (9) would silently become "unlabeled" in the one-hot encoding anyway; here
it is said explicitly, and `data check` counts the pixels that went to unlabeled, per CamVid class.

Mapping choices (the brief's and ours; also in docs/datasets.md):
  11-class: Sky→sky, Building→building, Pole→pole, Road→road, Pavement→sidewalk, Tree→vegetation,
    SignSymbol→traffic sign, Fence→fence, Car→car, Pedestrian→person, Bicyclist→rider (CamVid's
    bicyclist mask covers rider and bicycle; Cityscapes splits them, we keep the person),
    Unlabelled→unlabeled.
  32-class: as the 11-class where the class is the same; finer where Cityscapes has an evaluated
    class: Wall→wall, TrafficLight→traffic light, MotorcycleScooter→motorcycle, Train→train,
    Truck_Bus→truck (CamVid does not separate trucks from buses, so one had to be chosen; a
    model trained on CamVid therefore never sees "bus"), SUVPickupTruck→car (Cityscapes counts pickups and SUVs as
    cars), Child→person, Column_Pole→pole, VegetationMisc→vegetation, Sidewalk→sidewalk,
    LaneMkgsDriv / LaneMkgsNonDriv / RoadShoulder→road (Cityscapes' road includes its markings
    and the areas delimited from it by markings only), Archway→building (part of a building
    structure, as SegNet groups it).
    To unlabeled, because their Cityscapes counterpart is not one of the 19: Bridge and Tunnel
    (Cityscapes has them as ignored classes), ParkingBlock (Cityscapes "parking", ignored),
    Animal, CartLuggagePram, OtherMoving, TrafficCone (Cityscapes "dynamic"/"static"),
    Misc_Text (text that is not a traffic sign), Void.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.labels import PALETTE_IDS, class_by_name

UNLABELED_ID = 0


def _id(name: str) -> int:
    """A Cityscapes label id by class name (from core.labels, so ids are never retyped)."""
    return class_by_name(name).id


# ---- SegNet's 11-class CamVid (label PNG value = index in this tuple) -------------------------

CAMVID11_CLASSES: tuple[str, ...] = (
    "Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
    "Pedestrian", "Bicyclist", "Unlabelled",
)
CAMVID11_UNLABELLED = 11

#: SegNet CamVid class index -> Cityscapes label id. The one table for the 11-class labels.
CAMVID11_TO_LABEL_ID: dict[int, int] = {
    0: _id("sky"),
    1: _id("building"),
    2: _id("pole"),
    3: _id("road"),
    4: _id("sidewalk"),
    5: _id("vegetation"),
    6: _id("traffic sign"),
    7: _id("fence"),
    8: _id("car"),
    9: _id("person"),
    10: _id("rider"),
    11: UNLABELED_ID,
}

#: The same table as a 256-entry lookup (index = raw PNG value). Values outside the table map to 0
#: here, but a reader must reject them first (see CAMVID11_VALID).
CAMVID11_LUT = np.zeros(256, dtype=np.uint8)
CAMVID11_VALID = np.zeros(256, dtype=bool)
for _index, _label_id in CAMVID11_TO_LABEL_ID.items():
    CAMVID11_LUT[_index] = _label_id
    CAMVID11_VALID[_index] = True


# ---- The original 32-class CamVid (colour labels *_L.png) --------------------------------------

@dataclass(frozen=True)
class CamVidClass:
    name: str
    color: tuple[int, int, int]  # exact RGB in the *_L.png files
    label_id: int  # Cityscapes label id it maps to (0 = unlabeled)


#: CamVid's 32 classes with their colours (CamVid's label_colors.txt), in its alphabetical order.
CAMVID32_CLASSES: tuple[CamVidClass, ...] = (
    CamVidClass("Animal", (64, 128, 64), UNLABELED_ID),
    CamVidClass("Archway", (192, 0, 128), _id("building")),
    CamVidClass("Bicyclist", (0, 128, 192), _id("rider")),
    CamVidClass("Bridge", (0, 128, 64), UNLABELED_ID),
    CamVidClass("Building", (128, 0, 0), _id("building")),
    CamVidClass("Car", (64, 0, 128), _id("car")),
    CamVidClass("CartLuggagePram", (64, 0, 192), UNLABELED_ID),
    CamVidClass("Child", (192, 128, 64), _id("person")),
    CamVidClass("Column_Pole", (192, 192, 128), _id("pole")),
    CamVidClass("Fence", (64, 64, 128), _id("fence")),
    CamVidClass("LaneMkgsDriv", (128, 0, 192), _id("road")),
    CamVidClass("LaneMkgsNonDriv", (192, 0, 64), _id("road")),
    CamVidClass("Misc_Text", (128, 128, 64), UNLABELED_ID),
    CamVidClass("MotorcycleScooter", (192, 0, 192), _id("motorcycle")),
    CamVidClass("OtherMoving", (128, 64, 64), UNLABELED_ID),
    CamVidClass("ParkingBlock", (64, 192, 128), UNLABELED_ID),
    CamVidClass("Pedestrian", (64, 64, 0), _id("person")),
    CamVidClass("Road", (128, 64, 128), _id("road")),
    CamVidClass("RoadShoulder", (128, 128, 192), _id("road")),
    CamVidClass("Sidewalk", (0, 0, 192), _id("sidewalk")),
    CamVidClass("SignSymbol", (192, 128, 128), _id("traffic sign")),
    CamVidClass("Sky", (128, 128, 128), _id("sky")),
    CamVidClass("SUVPickupTruck", (64, 128, 192), _id("car")),
    CamVidClass("TrafficCone", (0, 0, 64), UNLABELED_ID),
    CamVidClass("TrafficLight", (0, 64, 64), _id("traffic light")),
    CamVidClass("Train", (192, 64, 128), _id("train")),
    CamVidClass("Tree", (128, 128, 0), _id("vegetation")),
    CamVidClass("Truck_Bus", (192, 128, 192), _id("truck")),
    CamVidClass("Tunnel", (64, 0, 64), UNLABELED_ID),
    CamVidClass("VegetationMisc", (192, 192, 0), _id("vegetation")),
    CamVidClass("Void", (0, 0, 0), UNLABELED_ID),
    CamVidClass("Wall", (64, 192, 0), _id("wall")),
)
CAMVID32_NAMES: tuple[str, ...] = tuple(c.name for c in CAMVID32_CLASSES)
#: 32-class name -> Cityscapes label id (the same table as CAMVID32_CLASSES, keyed by name).
CAMVID32_TO_LABEL_ID: dict[str, int] = {c.name: c.label_id for c in CAMVID32_CLASSES}
#: Class index (position in CAMVID32_CLASSES) -> Cityscapes label id.
CAMVID32_LUT = np.array([c.label_id for c in CAMVID32_CLASSES], dtype=np.uint8)

# Every CamVid colour channel is one of 0, 64, 128, 192, so a colour is fully determined by the top
# two bits of each channel: a 64-entry table (index r>>6, g>>6, b>>6) turns a colour into its class
# in one gather, with no sort or search — provided the low six bits of every channel are zero,
# which the reader checks (any other colour is "not in the table"; no snapping, these are PNGs).
COLOR_KEY_BAD = 255
CAMVID32_COLOR_KEY_TO_CLASS = np.full(64, COLOR_KEY_BAD, dtype=np.uint8)
for _k, _c in enumerate(CAMVID32_CLASSES):
    assert all(v % 64 == 0 for v in _c.color), _c  # the 64-entry lookup depends on it
    _key = (_c.color[0] >> 6) << 4 | (_c.color[1] >> 6) << 2 | (_c.color[2] >> 6)
    assert CAMVID32_COLOR_KEY_TO_CLASS[_key] == COLOR_KEY_BAD, _c  # colours are distinct
    CAMVID32_COLOR_KEY_TO_CLASS[_key] = _k


# ---- What the tables cover (for evaluation: which Cityscapes classes CamVid can score) ---------

#: Cityscapes label ids (evaluated classes, 0 excluded) that some 11-class CamVid class maps to.
CAMVID11_COVERED_LABEL_IDS: frozenset[int] = frozenset(v for v in CAMVID11_TO_LABEL_ID.values() if v)
#: The same for the 32-class release.
CAMVID32_COVERED_LABEL_IDS: frozenset[int] = frozenset(c.label_id for c in CAMVID32_CLASSES if c.label_id)

# The targets must be the 20 classes the model input knows (unlabeled + the 19 evaluated ones).
assert set(CAMVID11_TO_LABEL_ID.values()) <= set(PALETTE_IDS.tolist())
assert {c.label_id for c in CAMVID32_CLASSES} <= set(PALETTE_IDS.tolist())
