"""spec 3.5: Tomita items, growth classes (spec 2.1) and the user override, bands."""

from __future__ import annotations

import pytest

from scoring.rules import tomita
from scoring.rules.flags import FLAG_GROWTH_ENTERED
from scoring.rules.primary import PRIMARY_CODES

# spec 2.1 "Tomita growth"; every other code has none ("—").
GROWTH = {
    "breast": "slow", "prostate": "slow", "thyroid": "slow", "kidney": "moderate", "lung_nsclc": "rapid",
    "lung_sclc": "rapid", "colon": "rapid", "stomach": "rapid", "liver": "rapid", "uterus": "moderate",
    "unknown": "rapid",
}  # fmt: skip
GROWTH_POINTS = {"slow": 1, "moderate": 2, "rapid": 4}


def inputs(primary: str | None = "breast", **changes: object) -> dict[str, object]:
    return {"primary": primary, "visceral_metastases": "none", "bone_metastases": "solitary", **changes}


@pytest.mark.parametrize("primary", PRIMARY_CODES)
def test_growth_class_from_primary(primary: str) -> None:
    result = tomita.compute(inputs(primary))
    if primary in GROWTH:
        assert result.items[0].value == GROWTH[primary]
        assert result.score == GROWTH_POINTS[GROWTH[primary]] + 0 + 1
        assert result.flags == ()
    else:
        assert (result.status, result.missing) == ("incomplete", ("primary_growth",))


@pytest.mark.parametrize(("growth", "points"), GROWTH_POINTS.items())
@pytest.mark.parametrize("primary", ["myeloma", "breast"])
def test_entered_growth_class_overrides_and_is_flagged(primary: str, growth: str, points: int) -> None:
    result = tomita.compute(inputs(primary, primary_growth=growth))
    assert (result.items[0].item, result.items[0].value, result.items[0].points) == ("primary_growth", growth, points)
    assert result.score == points + 1
    assert result.flags == (FLAG_GROWTH_ENTERED,)


@pytest.mark.parametrize(
    ("item", "value", "points"),
    [
        ("visceral_metastases", "none", 0),
        ("visceral_metastases", "treatable", 2),
        ("visceral_metastases", "untreatable", 4),
        ("bone_metastases", "solitary", 1),
        ("bone_metastases", "multiple", 2),
    ],
)
def test_item_options(item: str, value: str, points: int) -> None:
    result = tomita.compute(inputs(**{item: value}))
    assert {i.item: i.points for i in result.items}[item] == points


def combo(growth: str, visceral: str, bone: str) -> dict[str, object]:
    return {"primary": "other", "primary_growth": growth, "visceral_metastases": visceral, "bone_metastases": bone}


BOUNDARIES = [
    (combo("slow", "none", "solitary"), 2, "long_term_control"),
    (combo("slow", "none", "multiple"), 3, "long_term_control"),
    (combo("moderate", "none", "multiple"), 4, "middle_term_control"),
    (combo("slow", "treatable", "multiple"), 5, "middle_term_control"),
    (combo("rapid", "none", "multiple"), 6, "short_term_palliation"),
    (combo("rapid", "treatable", "solitary"), 7, "short_term_palliation"),
    (combo("rapid", "treatable", "multiple"), 8, "terminal_care"),
    (combo("rapid", "untreatable", "solitary"), 9, "terminal_care"),  # 9 is reachable
    (combo("rapid", "untreatable", "multiple"), 10, "terminal_care"),
]
LABELS = {
    "long_term_control": "Long-term local control (wide or marginal excision)",
    "middle_term_control": "Middle-term local control (marginal or intralesional excision)",
    "short_term_palliation": "Short-term palliation (palliative surgery)",
    "terminal_care": "Terminal care (supportive care, no or limited surgery)",
}


@pytest.mark.parametrize(("given", "total", "category"), BOUNDARIES)
def test_category_boundaries(given: dict[str, object], total: int, category: str) -> None:
    result = tomita.compute(given)
    assert (result.status, result.score, result.category, result.category_label) == (
        "complete",
        total,
        category,
        LABELS[category],
    )


@pytest.mark.parametrize("item", ["visceral_metastases", "bone_metastases"])
def test_missing_item(item: str) -> None:
    result = tomita.compute(inputs(**{item: None}))
    assert (result.status, result.missing, result.score) == ("incomplete", (item,), None)


def test_missing_primary_is_not_reported_as_missing_growth() -> None:
    result = tomita.compute(inputs(primary=None))
    assert result.missing == ("primary",)
    with_growth = tomita.compute(inputs(primary=None, primary_growth="slow"))
    assert (with_growth.status, with_growth.missing) == ("incomplete", ("primary",))
    assert with_growth.items[0].value == "slow"
