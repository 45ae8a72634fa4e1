"""spec 3.8: Rades items, the 20-45 span of its data table, bands, provisional flag."""

from __future__ import annotations

import pytest

from scoring.rules import rades
from scoring.rules.flags import FLAG_PROVISIONAL_RADES
from scoring.rules.primary import PRIMARIES, PRIMARY_CODES

PRIMARY_POINTS = {"breast": 8, "prostate": 7, "myeloma": 9, "lymphoma": 9, "lung_nsclc": 3, "lung_sclc": 3}
ITEMS = ["primary", "months_from_diagnosis", "visceral_metastases", "other_bone_metastases", "ambulatory",
         "motor_deficit_days"]  # fmt: skip
LOWEST = {
    "primary": "lung_nsclc",
    "months_from_diagnosis": 3.0,
    "visceral_metastases": True,
    "other_bone_metastases": True,
    "ambulatory": False,
    "motor_deficit_days": 2,
}


def test_data_table_spans_20_to_45() -> None:
    # spec 3.8: "The data table carries a test that its minimum sum is 20 and its maximum 45."
    primary = [row.rades for row in PRIMARIES.values()]
    tables = [
        [points for _, points in rades.MONTHS_POINTS],
        list(rades.VISCERAL_POINTS.values()),
        list(rades.OTHER_BONE_POINTS.values()),
        list(rades.AMBULATORY_POINTS.values()),
        [points for _, points in rades.DEFICIT_DAYS_POINTS],
    ]
    assert min(primary) + sum(min(t) for t in tables) == 20
    assert max(primary) + sum(max(t) for t in tables) == 45
    assert (rades.BANDS[0].low, rades.BANDS[-1].high) == (20, 45)


@pytest.mark.parametrize("primary", PRIMARY_CODES)
def test_primary(primary: str) -> None:
    result = rades.compute({**LOWEST, "primary": primary})
    assert result.items[0].points == PRIMARY_POINTS.get(primary, 4)  # "other" 4, no flag (spec 2.2)
    assert result.flags == (FLAG_PROVISIONAL_RADES,)


@pytest.mark.parametrize(
    ("item", "value", "points"),
    [
        ("months_from_diagnosis", 0, 4),
        ("months_from_diagnosis", 14.99, 4),
        ("months_from_diagnosis", 15, 4),  # compared unrounded: exactly 15 -> 4
        ("months_from_diagnosis", 15.0, 4),
        ("months_from_diagnosis", 15.001, 7),
        ("months_from_diagnosis", 16, 7),
        ("visceral_metastases", True, 2),
        ("visceral_metastases", False, 7),
        ("other_bone_metastases", True, 5),
        ("other_bone_metastases", False, 7),
        ("ambulatory", True, 7),
        ("ambulatory", False, 3),
        ("motor_deficit_days", 1, 3),
        ("motor_deficit_days", 7, 3),
        ("motor_deficit_days", 8, 5),
        ("motor_deficit_days", 14, 5),
        ("motor_deficit_days", 15, 8),
        ("motor_deficit_days", 90, 8),
    ],
)
def test_item_options(item: str, value: object, points: int) -> None:
    result = rades.compute({**LOWEST, item: value})
    item_score = {i.item: i for i in result.items}[item]
    assert (item_score.value, item_score.points) == (value, points)


def lowest_plus(**changes: object) -> dict[str, object]:
    return {**LOWEST, **changes}


# Gains over the lowest combination (20): other primary +1, prostate +4, breast +5, myeloma +6,
# months > 15 +3, no visceral +5, no other bone +2, ambulatory +4, days 8-14 +2, days > 14 +5.
TOTALS = {
    20: lowest_plus(),
    25: lowest_plus(visceral_metastases=False),
    26: lowest_plus(primary="myeloma"),
    30: lowest_plus(primary="breast", visceral_metastases=False),
    31: lowest_plus(primary="myeloma", visceral_metastases=False),
    35: lowest_plus(primary="myeloma", visceral_metastases=False, ambulatory=True),
    36: lowest_plus(primary="myeloma", visceral_metastases=False, motor_deficit_days=15),
    40: lowest_plus(primary="myeloma", visceral_metastases=False, motor_deficit_days=15, ambulatory=True),
    41: lowest_plus(
        primary="breast", visceral_metastases=False, motor_deficit_days=15, ambulatory=True, other_bone_metastases=False
    ),
    45: {
        "primary": "lymphoma",
        "months_from_diagnosis": 15.5,
        "visceral_metastases": False,
        "other_bone_metastases": False,
        "ambulatory": True,
        "motor_deficit_days": 30,
    },
}


BOUNDARIES = [
    (20, "20_25", "6-month survival 4 %"),
    (25, "20_25", "6-month survival 4 %"),
    (26, "26_30", "6-month survival 11 %"),
    (30, "26_30", "6-month survival 11 %"),
    (31, "31_35", "6-month survival 48 %"),
    (35, "31_35", "6-month survival 48 %"),
    (36, "36_40", "6-month survival 87 % (unverified)"),
    (40, "36_40", "6-month survival 87 % (unverified)"),
    (41, "41_45", "6-month survival 99 % (unverified)"),
    (45, "41_45", "6-month survival 99 % (unverified)"),
]


@pytest.mark.parametrize(("total", "category", "label"), BOUNDARIES)
def test_category_boundaries(total: int, category: str, label: str) -> None:
    result = rades.compute(TOTALS[total])
    assert sum(i.points or 0 for i in result.items) == total
    assert (result.score, result.category, result.category_label) == (total, category, label)
    assert [i.item for i in result.items] == ITEMS


@pytest.mark.parametrize("item", ITEMS)
def test_missing_item_keeps_provisional_flag(item: str) -> None:
    result = rades.compute({**LOWEST, item: None})
    assert (result.status, result.missing, result.score) == ("incomplete", (item,), None)
    assert result.flags == (FLAG_PROVISIONAL_RADES,)
    assert result.provisional is True
