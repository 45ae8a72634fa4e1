"""spec 3.9: Bollen flowchart, profiles (spec 2.1) and overrides, flags."""

from __future__ import annotations

import pytest

from scoring.rules import bollen
from scoring.rules.flags import FLAG_BOLLEN_OUTSIDE_COHORT, FLAG_BOLLEN_PROFILE_ENTERED, FLAG_PROVISIONAL_BOLLEN
from scoring.rules.primary import PRIMARY_CODES

PROFILE = {"breast": "favourable", "prostate": "moderate", "lung_nsclc": "unfavourable", "lung_sclc": "unfavourable"}
OUTSIDE_COHORT = {"myeloma", "lymphoma", "unknown"}
HIGH_KPS = (80, 90, 100)
LOW_KPS = (10, 20, 30, 40, 50, 60, 70)

# spec 3.9 table: (profile, visceral/brain, KPS 80-100 class, KPS 10-70 class).
FLOWCHART = [
    ("favourable", False, "A", "B"),
    ("favourable", True, "B", "C"),
    ("moderate", False, "B", "C"),
    ("moderate", True, "B", "C"),
    ("unfavourable", False, "C", "D"),
    ("unfavourable", True, "C", "D"),
]
CASES = [
    (profile, visceral, kps, high if kps >= 80 else low)
    for profile, visceral, high, low in FLOWCHART
    for kps in (*HIGH_KPS, *LOW_KPS)
]
LABELS = {
    "A": "A: median survival 31.2 months",
    "B": "B: median survival 15.4 months",
    "C": "C: median survival 4.8 months",
    "D": "D: median survival 1.6 months",
}


@pytest.mark.parametrize(("profile", "visceral", "kps", "letter"), CASES)
def test_flowchart(profile: str, visceral: bool, kps: int, letter: str) -> None:
    result = bollen.compute(
        {"primary": "other", "bollen_profile": profile, "kps": kps, "visceral_or_brain_metastases": visceral}
    )
    assert (result.status, result.score, result.category, result.category_label) == (
        "complete",
        letter,
        letter,
        LABELS[letter],
    )
    assert all(i.points is None for i in result.items)
    assert result.flags == (FLAG_PROVISIONAL_BOLLEN, FLAG_BOLLEN_PROFILE_ENTERED)


@pytest.mark.parametrize("primary", PRIMARY_CODES)
def test_profile_from_primary(primary: str) -> None:
    result = bollen.compute({"primary": primary, "kps": 90, "visceral_or_brain_metastases": False})
    outside = (FLAG_BOLLEN_OUTSIDE_COHORT,) if primary in OUTSIDE_COHORT else ()
    assert result.flags == (FLAG_PROVISIONAL_BOLLEN, *outside)
    if primary in PROFILE:
        assert result.items[0].value == PROFILE[primary]
        assert result.is_complete
    else:
        assert (result.status, result.missing, result.score) == ("incomplete", ("bollen_profile",), None)


def test_override_replaces_the_table_profile() -> None:
    result = bollen.compute(
        {"primary": "breast", "bollen_profile": "unfavourable", "kps": 90, "visceral_or_brain_metastases": False}
    )
    assert result.score == "C"
    assert FLAG_BOLLEN_PROFILE_ENTERED in result.flags


def test_outside_cohort_flag_with_override() -> None:
    result = bollen.compute(
        {"primary": "myeloma", "bollen_profile": "moderate", "kps": 90, "visceral_or_brain_metastases": False}
    )
    assert result.score == "B"
    assert result.flags == (FLAG_PROVISIONAL_BOLLEN, FLAG_BOLLEN_OUTSIDE_COHORT, FLAG_BOLLEN_PROFILE_ENTERED)


@pytest.mark.parametrize("item", ["primary", "kps", "visceral_or_brain_metastases"])
def test_missing_required(item: str) -> None:
    inputs: dict[str, object] = {"primary": "prostate", "kps": 90, "visceral_or_brain_metastases": False, item: None}
    result = bollen.compute(inputs)
    assert (result.status, result.missing, result.score, result.category) == ("incomplete", (item,), None, None)
