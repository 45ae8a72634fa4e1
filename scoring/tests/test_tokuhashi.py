"""spec 3.4: revised Tokuhashi items, primary sites (spec 2.1), bands and missing inputs."""

from __future__ import annotations

import pytest

from scoring.rules import tokuhashi
from scoring.rules.flags import FLAG_TOKUHASHI_OTHERS
from scoring.rules.primary import PRIMARY_CODES

ZERO = {
    "kps": 10,
    "extraspinal_bone_metastases": 3,
    "vertebral_metastases": 3,
    "major_organ_metastases": "unremovable",
    "primary": "lung_nsclc",
    "frankel": "A",
}
ITEM_ORDER = list(ZERO)

OPTIONS = [
    *[("kps", k, 0) for k in (10, 20, 30, 40)],
    *[("kps", k, 1) for k in (50, 60, 70)],
    *[("kps", k, 2) for k in (80, 90, 100)],
    ("extraspinal_bone_metastases", 0, 2),
    ("extraspinal_bone_metastases", 1, 1),
    ("extraspinal_bone_metastases", 2, 1),
    ("extraspinal_bone_metastases", 3, 0),
    ("extraspinal_bone_metastases", 40, 0),
    ("vertebral_metastases", 1, 2),
    ("vertebral_metastases", 2, 1),
    ("vertebral_metastases", 3, 0),
    ("vertebral_metastases", 17, 0),
    ("major_organ_metastases", "unremovable", 0),
    ("major_organ_metastases", "removable", 1),
    ("major_organ_metastases", "none", 2),
    ("frankel", "A", 0),
    ("frankel", "B", 0),
    ("frankel", "C", 1),
    ("frankel", "D", 1),
    ("frankel", "E", 2),
]


@pytest.mark.parametrize(("item", "value", "points"), OPTIONS)
def test_every_option_scores_its_points(item: str, value: object, points: int) -> None:
    result = tokuhashi.compute({**ZERO, item: value})
    assert result.score == points
    assert {i.item: i.points for i in result.items}[item] == points


# spec 2.1 "Tokuhashi site"; † marks "others" (2 points, flagged).
SITE = {
    "breast": 5, "prostate": 5, "thyroid": 5, "kidney": 3, "lung_nsclc": 0, "lung_sclc": 0, "colon": 2,
    "rectum": 4, "stomach": 0, "oesophagus": 0, "pancreas": 0, "liver": 1, "gallbladder": 1, "bladder": 0,
    "uterus": 3, "ovary": 2, "melanoma": 2, "sarcoma": 2, "osteosarcoma": 0, "myeloma": 2, "lymphoma": 2,
    "germ_cell": 2, "carcinoid": 5, "head_neck": 2, "unknown": 1, "other": 2,
}  # fmt: skip
OTHERS = {"colon", "ovary", "melanoma", "sarcoma", "myeloma", "lymphoma", "germ_cell", "head_neck", "other"}


@pytest.mark.parametrize("primary", PRIMARY_CODES)
def test_primary_site_points_and_others_flag(primary: str) -> None:
    result = tokuhashi.compute({**ZERO, "primary": primary})
    assert result.score == SITE[primary]
    assert result.flags == ((FLAG_TOKUHASHI_OTHERS,) if primary in OTHERS else ())


def z(**changes: object) -> dict[str, object]:
    return {**ZERO, **changes}


BOUNDARIES = [
    (z(), 0, "lt_6_months"),
    (z(kps=80, extraspinal_bone_metastases=0, vertebral_metastases=1, major_organ_metastases="none"), 8, "lt_6_months"),
    (
        z(kps=80, extraspinal_bone_metastases=0, vertebral_metastases=1, major_organ_metastases="none", frankel="C"),
        9,
        "gte_6_months",
    ),
    (
        z(kps=80, extraspinal_bone_metastases=0, vertebral_metastases=1, major_organ_metastases="none", frankel="E",
          primary="liver"),
        11,
        "gte_6_months",
    ),
    (
        z(kps=80, extraspinal_bone_metastases=0, vertebral_metastases=1, major_organ_metastases="none", frankel="E",
          primary="colon"),
        12,
        "gte_12_months",
    ),
    (
        z(kps=100, extraspinal_bone_metastases=0, vertebral_metastases=1, major_organ_metastases="none", frankel="E",
          primary="breast"),
        15,
        "gte_12_months",
    ),
]  # fmt: skip
LABELS = {
    "lt_6_months": "Predicted survival < 6 months (conservative treatment)",
    "gte_6_months": (
        "Predicted survival >= 6 months (palliative surgery; excisional if single lesion and no major organ metastases)"
    ),
    "gte_12_months": "Predicted survival >= 1 year (excisional surgery)",
}


@pytest.mark.parametrize(("inputs", "total", "category"), BOUNDARIES)
def test_category_boundaries(inputs: dict[str, object], total: int, category: str) -> None:
    result = tokuhashi.compute(inputs)
    assert (result.status, result.score, result.category) == ("complete", total, category)
    assert result.category_label == LABELS[category]
    assert [i.item for i in result.items] == ITEM_ORDER


@pytest.mark.parametrize("item", ITEM_ORDER)
def test_missing_item(item: str) -> None:
    result = tokuhashi.compute({**ZERO, item: None})
    assert (result.status, result.score, result.category, result.missing) == ("incomplete", None, None, (item,))
    assert [i.item for i in result.items] == [name for name in ITEM_ORDER if name != item]


def test_kps_table_is_10_to_100_only() -> None:
    # KPS 0 is not in the revised table; the contract range is 10-100.
    assert sorted(tokuhashi.KPS_POINTS) == list(range(10, 101, 10))
