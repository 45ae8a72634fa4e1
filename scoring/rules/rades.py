"""Rades MSCC survival score (spec 3.8). Provisional: every result says so in its flags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import UNBOUNDED, Band, ResultBuilder, ScoreResult, SystemMeta, points_up_to
from scoring.rules.flags import FLAG_PROVISIONAL_RADES
from scoring.rules.primary import primary_mapping

META: Final = SystemMeta(
    name="rades",
    title="Rades MSCC survival score",
    citation="Rades D, Dunst J, Schild SE, Cancer 2008;112(1):157-161, doi:10.1002/cncr.23150",
    provisional_flag=FLAG_PROVISIONAL_RADES,
)

# spec 3.8 item table; primary points are spec 2.1 "Rades".
# (inclusive upper bound, points): compared unrounded, so exactly 15 months scores 4.
MONTHS_POINTS: Final[tuple[tuple[float, int], ...]] = ((15, 4), (UNBOUNDED, 7))
VISCERAL_POINTS: Final[dict[bool, int]] = {True: 2, False: 7}
OTHER_BONE_POINTS: Final[dict[bool, int]] = {True: 5, False: 7}
AMBULATORY_POINTS: Final[dict[bool, int]] = {True: 7, False: 3}
# Days of developing motor deficit 1-7 / 8-14 / > 14.
DEFICIT_DAYS_POINTS: Final[tuple[tuple[float, int], ...]] = ((7, 3), (14, 5), (UNBOUNDED, 8))

# spec 3.8 categories.
BANDS: Final[tuple[Band, ...]] = (
    Band(20, 25, "20_25", "6-month survival 4 %"),
    Band(26, 30, "26_30", "6-month survival 11 %"),
    Band(31, 35, "31_35", "6-month survival 48 %"),
    Band(36, 40, "36_40", "6-month survival 87 % (unverified)"),
    Band(41, 45, "41_45", "6-month survival 99 % (unverified)"),
)


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """Six items in the spec's order: primary, interval, visceral, other bone, ambulatory, deficit days."""
    builder = ResultBuilder(META, inputs)
    primary = builder.get("primary")
    if primary is not None:
        builder.item("primary", primary, primary_mapping(primary).rades)
    months = builder.get("months_from_diagnosis")
    if months is not None:
        builder.item("months_from_diagnosis", months, points_up_to(MONTHS_POINTS, months))
    builder.choice("visceral_metastases", VISCERAL_POINTS)
    builder.choice("other_bone_metastases", OTHER_BONE_POINTS)
    builder.choice("ambulatory", AMBULATORY_POINTS)
    days = builder.get("motor_deficit_days")
    if days is not None:
        builder.item("motor_deficit_days", days, points_up_to(DEFICIT_DAYS_POINTS, days))
    return builder.summed(BANDS)
