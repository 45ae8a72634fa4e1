"""van der Linden score (spec 3.7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import Band, ResultBuilder, ScoreResult, SystemMeta
from scoring.rules.primary import primary_mapping

META: Final = SystemMeta(
    name="van_der_linden",
    title="van der Linden score",
    citation="van der Linden YM et al., Cancer 2005;103(2):320-328",
)

# spec 3.7: KPS 80-100 / 50-70 / 20-40 -> 2 / 1 / 0. KPS 10 (and 0) is outside the published table.
KPS_POINTS: Final[dict[int, int]] = {20: 0, 30: 0, 40: 0, 50: 1, 60: 1, 70: 1, 80: 2, 90: 2, 100: 2}
VISCERAL_POINTS: Final[dict[bool, int]] = {False: 1, True: 0}

# spec 3.7 categories.
BANDS: Final[tuple[Band, ...]] = (
    Band(0, 3, "A", "Group A: median survival 3.0 months"),
    Band(4, 5, "B", "Group B: median survival 9.0 months"),
    Band(6, 6, "C", "Group C: median survival 18.7 months"),
)


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """KPS + primary (spec 2.1 "van der Linden") + no visceral metastases."""
    builder = ResultBuilder(META, inputs)
    builder.choice("kps", KPS_POINTS)
    primary = builder.get("primary")
    if primary is not None:
        builder.item("primary", primary, primary_mapping(primary).van_der_linden)
    builder.choice("visceral_metastases", VISCERAL_POINTS)
    return builder.summed(BANDS)
