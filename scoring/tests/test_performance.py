"""spec 3.3: KPS, ECOG and the crosswalk."""

from __future__ import annotations

import pytest

from scoring.rules import performance
from scoring.rules.flags import FLAG_KPS_CONVERTED

KPS_TO_ECOG = [(100, 0), (90, 0), (80, 1), (70, 1), (60, 2), (50, 2), (40, 3), (30, 3), (20, 4), (10, 4), (0, 5)]
ECOG_TO_KPS = [(0, 90), (1, 80), (2, 60), (3, 40), (4, 20), (5, 0)]


@pytest.mark.parametrize(("kps", "ecog"), KPS_TO_ECOG)
def test_kps_gives_ecog_category(kps: int, ecog: int) -> None:
    result = performance.compute({"kps": kps})
    assert (result.score, result.category, result.category_label) == (kps, str(ecog), f"ECOG {ecog}")
    assert result.flags == ()
    assert [(i.item, i.value, i.points) for i in result.items] == [("kps", kps, None)]


@pytest.mark.parametrize(("ecog", "kps"), ECOG_TO_KPS)
def test_ecog_converts_to_kps_with_flag(ecog: int, kps: int) -> None:
    result = performance.compute({"ecog": ecog})
    # The category is the recorded ECOG, never a KPS converted back.
    assert (result.score, result.category, result.category_label) == (kps, str(ecog), f"ECOG {ecog}")
    assert result.flags == (FLAG_KPS_CONVERTED,)
    assert [(i.item, i.value, i.points) for i in result.items] == [("ecog", ecog, None), ("kps", kps, None)]


def test_kps_wins_when_both_arrive() -> None:
    result = performance.compute({"kps": 50, "ecog": 0})
    assert (result.score, result.category, result.flags) == (50, "2", ())


@pytest.mark.parametrize("inputs", [{}, {"kps": None, "ecog": None}])
def test_missing(inputs: dict[str, object]) -> None:
    result = performance.compute(inputs)
    assert (result.status, result.missing, result.score, result.items) == ("incomplete", ("kps",), None, ())
