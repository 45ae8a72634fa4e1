"""Bollen classification (spec 3.9). Provisional: every result says so in its flags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import ResultBuilder, ScoreResult, SystemMeta
from scoring.rules.flags import FLAG_BOLLEN_OUTSIDE_COHORT, FLAG_BOLLEN_PROFILE_ENTERED, FLAG_PROVISIONAL_BOLLEN
from scoring.rules.primary import primary_mapping

META: Final = SystemMeta(
    name="bollen",
    title="Bollen classification",
    citation="Bollen L et al., Neuro Oncol 2014;16(7):991-998, doi:10.1093/neuonc/not318",
    provisional_flag=FLAG_PROVISIONAL_BOLLEN,
)

# spec 3.9 / contract `bollen_profile` choices.
PROFILES: Final[tuple[str, ...]] = ("favourable", "moderate", "unfavourable")

# spec 3.9: KPS dichotomised 80-100 vs 10-70 (KPS 0 is outside the table; contract 10-100).
KPS_GROUP: Final[dict[int, str]] = {
    10: "10-70", 20: "10-70", 30: "10-70", 40: "10-70", 50: "10-70", 60: "10-70", 70: "10-70",
    80: "80-100", 90: "80-100", 100: "80-100",
}  # fmt: skip
# spec 3.9 flowchart: (profile, visceral or brain metastases, KPS group) -> class. Visceral/brain
# metastases matter only in the favourable profile; the other rows repeat the class for both values.
CLASS_TABLE: Final[dict[tuple[str, bool, str], str]] = {
    ("favourable", False, "80-100"): "A",
    ("favourable", False, "10-70"): "B",
    ("favourable", True, "80-100"): "B",
    ("favourable", True, "10-70"): "C",
    ("moderate", False, "80-100"): "B",
    ("moderate", False, "10-70"): "C",
    ("moderate", True, "80-100"): "B",
    ("moderate", True, "10-70"): "C",
    ("unfavourable", False, "80-100"): "C",
    ("unfavourable", False, "10-70"): "D",
    ("unfavourable", True, "80-100"): "C",
    ("unfavourable", True, "10-70"): "D",
}
# spec 3.9 labels.
CATEGORY_LABELS: Final[dict[str, str]] = {
    "A": "A: median survival 31.2 months",
    "B": "B: median survival 15.4 months",
    "C": "C: median survival 4.8 months",
    "D": "D: median survival 1.6 months",
}


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """Class letter from profile, KPS group and visceral/brain metastases (items carry no points).

    `visceral_or_brain_metastases` is a required contract input, so it is needed even for the
    profiles whose branch does not read it (spec 1.2: any required input missing -> incomplete).
    """
    builder = ResultBuilder(META, inputs)
    primary = builder.get("primary")
    profile = builder.optional("bollen_profile")
    if primary is not None and primary_mapping(primary).bollen_outside_cohort:
        builder.flag(FLAG_BOLLEN_OUTSIDE_COHORT)
    if profile is not None:
        builder.flag(FLAG_BOLLEN_PROFILE_ENTERED)
    elif primary is not None:
        profile = primary_mapping(primary).bollen_profile
        if profile is None:
            builder.need("bollen_profile")
    if profile is not None:
        builder.item("bollen_profile", profile, None)
    kps = builder.get("kps")
    if kps is not None:
        builder.item("kps", kps, None)
    visceral = builder.get("visceral_or_brain_metastases")
    if visceral is not None:
        builder.item("visceral_or_brain_metastases", visceral, None)
    if builder.has_missing:
        return builder.incomplete()
    letter = CLASS_TABLE[(profile, visceral, KPS_GROUP[kps])]
    return builder.complete(letter, letter, CATEGORY_LABELS[letter])
