"""Revised Tokuhashi score, 2005 revision (spec 3.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import UNBOUNDED, Band, ResultBuilder, ScoreResult, SystemMeta, points_up_to
from scoring.rules.flags import FLAG_TOKUHASHI_OTHERS
from scoring.rules.primary import primary_mapping

META: Final = SystemMeta(
    name="tokuhashi_revised",
    title="Revised Tokuhashi score",
    citation=(
        "Tokuhashi Y et al., Spine 2005;30(19):2186-2191, doi:10.1097/01.brs.0000180401.06919.a5, "
        "table as reproduced with the author's corrections in NICE CG75 (2008) appendix 3"
    ),
)

# spec 3.4: KPS 10-40 / 50-70 / 80-100 -> 0 / 1 / 2. KPS 0 is not in the table (contract 10-100).
KPS_POINTS: Final[dict[int, int]] = {10: 0, 20: 0, 30: 0, 40: 0, 50: 1, 60: 1, 70: 1, 80: 2, 90: 2, 100: 2}
# spec 3.4: (inclusive upper bound, points). Extraspinal foci 0 / 1-2 / >= 3 -> 2 / 1 / 0.
EXTRASPINAL_POINTS: Final[tuple[tuple[float, int], ...]] = ((0, 2), (2, 1), (UNBOUNDED, 0))
# spec 3.4: vertebrae involved 1 / 2 / >= 3 -> 2 / 1 / 0.
VERTEBRAL_POINTS: Final[tuple[tuple[float, int], ...]] = ((1, 2), (2, 1), (UNBOUNDED, 0))
MAJOR_ORGAN_POINTS: Final[dict[str, int]] = {"none": 2, "removable": 1, "unremovable": 0}
FRANKEL_POINTS: Final[dict[str, int]] = {"A": 0, "B": 0, "C": 1, "D": 1, "E": 2}

# spec 3.4 categories (the authors' strategy).
BANDS: Final[tuple[Band, ...]] = (
    Band(0, 8, "lt_6_months", "Predicted survival < 6 months (conservative treatment)"),
    Band(
        9,
        11,
        "gte_6_months",
        "Predicted survival >= 6 months "
        "(palliative surgery; excisional if single lesion and no major organ metastases)",
    ),
    Band(12, 15, "gte_12_months", "Predicted survival >= 1 year (excisional surgery)"),
)


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """Sum of six items in the spec's order (KPS, extraspinal, vertebral, organs, primary, Frankel)."""
    builder = ResultBuilder(META, inputs)
    builder.choice("kps", KPS_POINTS)
    for name, table in (
        ("extraspinal_bone_metastases", EXTRASPINAL_POINTS),
        ("vertebral_metastases", VERTEBRAL_POINTS),
    ):
        count = builder.get(name)
        if count is not None:
            builder.item(name, count, points_up_to(table, count))
    builder.choice("major_organ_metastases", MAJOR_ORGAN_POINTS)
    primary = builder.get("primary")
    if primary is not None:
        row = primary_mapping(primary)  # spec 2.1 "Tokuhashi site"
        builder.item("primary", primary, row.tokuhashi_site)
        if row.tokuhashi_others:
            builder.flag(FLAG_TOKUHASHI_OTHERS)
    builder.choice("frankel", FRANKEL_POINTS)
    return builder.summed(BANDS)
