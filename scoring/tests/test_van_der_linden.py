"""spec 3.7: van der Linden items, primaries, bands."""

from __future__ import annotations

import pytest

from scoring.rules import van_der_linden
from scoring.rules.primary import PRIMARY_CODES

PRIMARY_POINTS = {"breast": 3, "prostate": 2, "lung_nsclc": 1, "lung_sclc": 1}  # every other code: 0
ZERO = {"kps": 20, "primary": "other", "visceral_metastases": True}


@pytest.mark.parametrize(
    ("kps", "points"), [(20, 0), (30, 0), (40, 0), (50, 1), (60, 1), (70, 1), (80, 2), (90, 2), (100, 2)]
)
def test_kps(kps: int, points: int) -> None:
    assert van_der_linden.compute({**ZERO, "kps": kps}).score == points


def test_kps_10_is_outside_the_table() -> None:
    assert van_der_linden.KPS_POINTS.get(10) is None  # spec 3.7: KPS 10 is outside the table
    assert 0 not in van_der_linden.KPS_POINTS


@pytest.mark.parametrize("primary", PRIMARY_CODES)
def test_primary(primary: str) -> None:
    result = van_der_linden.compute({**ZERO, "primary": primary})
    assert result.score == PRIMARY_POINTS.get(primary, 0)
    assert result.flags == ()  # "other" categories of the system raise no flag (spec 2.2)


@pytest.mark.parametrize(("visceral", "points"), [(False, 1), (True, 0)])
def test_visceral(visceral: bool, points: int) -> None:
    assert van_der_linden.compute({**ZERO, "visceral_metastases": visceral}).score == points


BOUNDARIES = [
    ({"kps": 20, "primary": "other", "visceral_metastases": True}, 0, "A", "Group A: median survival 3.0 months"),
    ({"kps": 80, "primary": "lung_nsclc", "visceral_metastases": True}, 3, "A", "Group A: median survival 3.0 months"),
    ({"kps": 80, "primary": "prostate", "visceral_metastases": True}, 4, "B", "Group B: median survival 9.0 months"),
    ({"kps": 70, "primary": "breast", "visceral_metastases": False}, 5, "B", "Group B: median survival 9.0 months"),
    ({"kps": 80, "primary": "breast", "visceral_metastases": False}, 6, "C", "Group C: median survival 18.7 months"),
]


@pytest.mark.parametrize(("inputs", "total", "category", "label"), BOUNDARIES)
def test_boundaries(inputs: dict[str, object], total: int, category: str, label: str) -> None:
    result = van_der_linden.compute(inputs)
    assert (result.score, result.category, result.category_label) == (total, category, label)
    assert [i.item for i in result.items] == ["kps", "primary", "visceral_metastases"]


@pytest.mark.parametrize("item", list(ZERO))
def test_missing_item(item: str) -> None:
    result = van_der_linden.compute({**ZERO, item: None})
    assert (result.status, result.missing, result.score) == ("incomplete", (item,), None)
