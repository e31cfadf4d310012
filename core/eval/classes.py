"""The classes the segmenter predicts: the 11 CamVid classes (SegNet's CamVid-11) in Cityscapes
terms, and how every Cityscapes label id folds onto them.

The segmenter always answers with one of the 11 primary label ids below. Ground truth may hold
other Cityscapes ids (a painted truck, a wall); they are folded onto the CamVid class that
covers them in the SegNet merge of CamVid's 32 classes (Truck_Bus, SUVPickupTruck and Train are
"Car"; Wall, Bridge and Tunnel are "Building"; TrafficLight is "SignSymbol"; VegetationMisc is
"Tree"; ParkingBlock is "Pavement"; MotorcycleScooter is "Bicyclist"), so a well rendered truck
counts as recognised. Ids that no CamVid class covers (unlabeled, ego vehicle, ground, rail
track, static, dynamic, ...) are IGNORE: they count nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.labels import PALETTE, class_by_id

IGNORE = 255

#: Primary Cityscapes label id of each segmenter class, in Cityscapes train-id order.
CLASS_IDS: tuple[int, ...] = (7, 8, 11, 13, 17, 20, 21, 23, 24, 25, 26)
#: road, sidewalk, building, fence, pole, traffic sign, vegetation, sky, person, rider, car
CLASS_NAMES: tuple[str, ...] = tuple(class_by_id(i).name for i in CLASS_IDS)
NUM_CLASSES = len(CLASS_IDS)

#: Other Cityscapes label ids and the primary id they fold onto (see the module docstring).
FOLDS: dict[int, int] = {
    9: 8,  # parking -> sidewalk
    12: 11,  # wall -> building
    14: 13,  # guard rail -> fence
    15: 11,  # bridge -> building
    16: 11,  # tunnel -> building
    18: 17,  # polegroup -> pole
    19: 20,  # traffic light -> traffic sign
    22: 21,  # terrain -> vegetation
    27: 26,  # truck -> car
    28: 26,  # bus -> car
    29: 26,  # caravan -> car
    30: 26,  # trailer -> car
    31: 26,  # train -> car
    32: 25,  # motorcycle -> rider
    33: 25,  # bicycle -> rider
}

#: Label id (any uint8) -> class index 0..10, or IGNORE.
ID_TO_CLASS = np.full(256, IGNORE, dtype=np.uint8)
for _index, _id in enumerate(CLASS_IDS):
    ID_TO_CLASS[_id] = _index
for _src, _dst in FOLDS.items():
    ID_TO_CLASS[_src] = ID_TO_CLASS[_dst]

#: Class index -> primary label id (IGNORE -> 0, unlabeled).
CLASS_TO_ID = np.zeros(256, dtype=np.uint8)
CLASS_TO_ID[: NUM_CLASSES] = CLASS_IDS


def ids_to_classes(ids: np.ndarray) -> np.ndarray:
    """uint8 label ids (any shape) -> class indices 0..10 / IGNORE."""
    return ID_TO_CLASS[ids]


def classes_to_ids(classes: np.ndarray) -> np.ndarray:
    """Class indices -> primary Cityscapes label ids (IGNORE -> 0)."""
    return CLASS_TO_ID[classes]


# ---- Class sets: what a segmenter answers with ---------------------------------------------------

@dataclass(frozen=True)
class ClassSet:
    """The classes one segmenter predicts (output channel k is class k) and how any label id folds
    onto them. `key` names the set in segmenter files and on the command line."""

    key: str
    ids: tuple[int, ...]  # primary Cityscapes label id per class, in output order
    id_to_class: np.ndarray = field(repr=False)  # 256 entries: label id -> class index or IGNORE
    description: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(class_by_id(i).name for i in self.ids)

    @property
    def num_classes(self) -> int:
        return len(self.ids)

    def ids_to_classes(self, ids: np.ndarray) -> np.ndarray:
        return self.id_to_class[ids]

    def classes_to_ids(self, classes: np.ndarray) -> np.ndarray:
        lut = np.zeros(256, dtype=np.uint8)
        lut[: self.num_classes] = self.ids
        return lut[classes]

    def cannot_judge(self) -> tuple[str, ...]:
        """The 19 brush classes this set has no class of its own for (they are folded or ignored)."""
        return tuple(c.name for c in PALETTE[1:] if c.id not in self.ids)


#: The 11 CamVid classes (the bundled `segmenter.safetensors`).
CAMVID11 = ClassSet("camvid11", CLASS_IDS, ID_TO_CLASS,
                    "the 11 CamVid classes; wall, terrain, traffic light, truck, bus, train, motorcycle and "
                    "bicycle are folded onto building, vegetation, traffic sign, car and rider")

_CITY19_TO_CLASS = np.full(256, IGNORE, dtype=np.uint8)
for _index, _c in enumerate(PALETTE[1:]):
    _CITY19_TO_CLASS[_c.id] = _index
#: The 19 evaluated Cityscapes classes = the 19 brushes (`segmenter19.safetensors`); other ids
#: (parking, guard rail, ...) are ignored, as Cityscapes' own benchmark does.
CITY19 = ClassSet("city19", tuple(int(c.id) for c in PALETTE[1:]), _CITY19_TO_CLASS,
                  "the 19 Cityscapes classes (every brush)")

CLASS_SETS: dict[str, ClassSet] = {s.key: s for s in (CAMVID11, CITY19)}


def class_set_for_ids(ids: tuple[int, ...] | list[int]) -> ClassSet | None:
    """The class set whose output order is exactly `ids` (a segmenter file's class list)."""
    for s in CLASS_SETS.values():
        if tuple(ids) == s.ids:
            return s
    return None
