"""Spinal Instability Neoplastic Score, one lesion (spec 3.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import Band, ResultBuilder, ScoreResult, SystemMeta

META: Final = SystemMeta(
    name="sins",
    title="Spinal Instability Neoplastic Score (SINS)",
    citation="Fisher CG et al., Spine 2010;35(22):E1221-E1229, doi:10.1097/BRS.0b013e3181e16ae2",
)

# spec 3.1 "Level to location", in anatomical order (also the contract's `level` choices).
LEVEL_TO_LOCATION: Final[dict[str, str]] = {
    "occiput": "junctional",
    "C1": "junctional",
    "C2": "junctional",
    "C3": "mobile",
    "C4": "mobile",
    "C5": "mobile",
    "C6": "mobile",
    "C7": "junctional",
    "T1": "junctional",
    "T2": "junctional",
    "T3": "semi_rigid",
    "T4": "semi_rigid",
    "T5": "semi_rigid",
    "T6": "semi_rigid",
    "T7": "semi_rigid",
    "T8": "semi_rigid",
    "T9": "semi_rigid",
    "T10": "semi_rigid",
    "T11": "junctional",
    "T12": "junctional",
    "L1": "junctional",
    "L2": "mobile",
    "L3": "mobile",
    "L4": "mobile",
    "L5": "junctional",
    "S1": "junctional",
    "S2": "rigid",
    "S3": "rigid",
    "S4": "rigid",
    "S5": "rigid",
}
LEVELS: Final[tuple[str, ...]] = tuple(LEVEL_TO_LOCATION)

# spec 3.1 item table, items in the spec's summing order. There is no 2-point pain or
# posterolateral option: the tables hold only the published options.
LOCATION_POINTS: Final[dict[str, int]] = {"junctional": 3, "mobile": 2, "semi_rigid": 1, "rigid": 0}
ITEM_POINTS: Final[dict[str, dict[str, int]]] = {
    "pain": {"mechanical": 3, "occasional_non_mechanical": 1, "pain_free": 0},
    "bone_lesion": {"lytic": 2, "mixed": 1, "blastic": 0},
    "alignment": {"subluxation_translation": 4, "de_novo_deformity": 2, "normal": 0},
    "collapse": {"over_50": 3, "under_50": 2, "none_over_50_involved": 1, "none": 0},
    "posterolateral": {"bilateral": 3, "unilateral": 1, "none": 0},
}

# spec 3.1 categories.
BANDS: Final[tuple[Band, ...]] = (
    Band(0, 6, "stable", "Stable (0-6)"),
    Band(7, 12, "potentially_unstable", "Potentially unstable (7-12)"),
    Band(13, 18, "unstable", "Unstable (13-18)"),
)


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """SINS of one lesion from exactly one of `level` or `location` plus the five other items.

    Neither `level` nor `location` known is reported as missing `level`, the input that case
    scoring maps (spec 4.7). Both given is a caller error (the registry rejects it).
    """
    builder = ResultBuilder(META, inputs)
    level, location = inputs.get("level"), inputs.get("location")
    if level is not None and location is not None:
        raise ValueError("sins takes exactly one of level or location")
    if level is not None:
        location = LEVEL_TO_LOCATION[level]
    if location is None:
        builder.need("level")
    else:
        # spec 3.1: the `location` item shows the location code, also when a level was given.
        builder.item("location", location, LOCATION_POINTS[location])
    for name, points in ITEM_POINTS.items():
        builder.choice(name, points)
    return builder.summed(BANDS)
