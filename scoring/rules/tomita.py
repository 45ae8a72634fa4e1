"""Tomita score (spec 3.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import Band, ResultBuilder, ScoreResult, SystemMeta
from scoring.rules.flags import FLAG_GROWTH_ENTERED
from scoring.rules.primary import primary_mapping

META: Final = SystemMeta(
    name="tomita",
    title="Tomita score",
    citation="Tomita K et al., Spine 2001;26(3):298-306, doi:10.1097/00007632-200102010-00016",
)

# spec 3.5. Rapid growth is 4 (one reproduction misprints it as 3, inconsistent with 2-10).
GROWTH_POINTS: Final[dict[str, int]] = {"slow": 1, "moderate": 2, "rapid": 4}
VISCERAL_POINTS: Final[dict[str, int]] = {"none": 0, "treatable": 2, "untreatable": 4}
BONE_POINTS: Final[dict[str, int]] = {"solitary": 1, "multiple": 2}

# spec 3.5 categories.
BANDS: Final[tuple[Band, ...]] = (
    Band(2, 3, "long_term_control", "Long-term local control (wide or marginal excision)"),
    Band(4, 5, "middle_term_control", "Middle-term local control (marginal or intralesional excision)"),
    Band(6, 7, "short_term_palliation", "Short-term palliation (palliative surgery)"),
    Band(8, 10, "terminal_care", "Terminal care (supportive care, no or limited surgery)"),
)


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """Growth + visceral + bone. A given `primary_growth` overrides spec 2.1 (flagged); without
    it, a primary that spec 2.1 gives no growth class leaves `primary_growth` missing."""
    builder = ResultBuilder(META, inputs)
    primary = builder.get("primary")
    growth = builder.optional("primary_growth")
    if growth is not None:
        builder.flag(FLAG_GROWTH_ENTERED)
    elif primary is not None:
        growth = primary_mapping(primary).tomita_growth
        if growth is None:
            builder.need("primary_growth")
    if growth is not None:
        builder.item("primary_growth", growth, GROWTH_POINTS[growth])
    builder.choice("visceral_metastases", VISCERAL_POINTS)
    builder.choice("bone_metastases", BONE_POINTS)
    return builder.summed(BANDS)
