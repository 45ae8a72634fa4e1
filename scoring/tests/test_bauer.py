"""spec 3.6: Bauer and modified Bauer items, primaries, bands."""

from __future__ import annotations

import pytest

from scoring.rules import bauer
from scoring.rules.flags import FLAG_UNKNOWN_NOT_LUNG
from scoring.rules.primary import PRIMARY_CODES

LUNG = {"lung_nsclc", "lung_sclc"}
FAVOURABLE = {"breast", "kidney", "lymphoma", "myeloma"}

# No favourable state: 0 points.
ZERO = {
    "primary": "lung_nsclc",
    "visceral_or_brain_metastases": True,
    "solitary_skeletal_metastasis": False,
    "pathological_fracture": True,
}


@pytest.mark.parametrize("primary", PRIMARY_CODES)
def test_primary_items(primary: str) -> None:
    for compute in (bauer.compute, bauer.compute_modified):
        result = compute({**ZERO, "primary": primary})
        points = {i.item: i.points for i in result.items}
        assert points["not_lung"] == (0 if primary in LUNG else 1)
        assert points["favourable_primary"] == (1 if primary in FAVOURABLE else 0)
        assert result.flags == ((FLAG_UNKNOWN_NOT_LUNG,) if primary == "unknown" else ())


@pytest.mark.parametrize(
    ("item", "value", "points"),
    [
        ("visceral_or_brain_metastases", False, 1),
        ("visceral_or_brain_metastases", True, 0),
        ("solitary_skeletal_metastasis", True, 1),
        ("solitary_skeletal_metastasis", False, 0),
        ("pathological_fracture", False, 1),
        ("pathological_fracture", True, 0),
    ],
)
def test_boolean_items(item: str, value: bool, points: int) -> None:
    result = bauer.compute({**ZERO, item: value})
    assert result.score == points
    assert {i.item: i.points for i in result.items}[item] == points
    if item != "pathological_fracture":
        assert bauer.compute_modified({**ZERO, item: value}).score == points


def test_modified_drops_the_fracture_item() -> None:
    result = bauer.compute_modified({**ZERO, "pathological_fracture": False})
    assert [i.item for i in result.items] == [
        "visceral_or_brain_metastases",
        "solitary_skeletal_metastasis",
        "not_lung",
        "favourable_primary",
    ]
    assert result.score == 0
    assert bauer.compute_modified({k: v for k, v in ZERO.items() if k != "pathological_fracture"}).is_complete


def state(points: int, primary: str = "lung_nsclc") -> dict[str, object]:
    """Inputs with `points` favourable non-primary states (order: visceral, solitary, fracture)."""
    return {
        "primary": primary,
        "visceral_or_brain_metastases": points < 1,
        "solitary_skeletal_metastasis": points >= 2,
        "pathological_fracture": points < 3,
    }


BAUER = [
    (state(0), 0, "poor", "Poor (0-1)"),
    (state(1), 1, "poor", "Poor (0-1)"),
    (state(2), 2, "intermediate", "Intermediate (2-3)"),
    (state(3), 3, "intermediate", "Intermediate (2-3)"),
    (state(3, "colon"), 4, "good", "Good (4-5)"),
    (state(3, "breast"), 5, "good", "Good (4-5)"),
]
MODIFIED = [
    (state(0), 0, "poor", "Poor (0-1)"),
    (state(1), 1, "poor", "Poor (0-1)"),
    (state(2), 2, "intermediate", "Intermediate (2)"),
    (state(2, "colon"), 3, "good", "Good (3-4)"),
    (state(2, "breast"), 4, "good", "Good (3-4)"),
]


@pytest.mark.parametrize(("inputs", "total", "category", "label"), BAUER)
def test_bauer_boundaries(inputs: dict[str, object], total: int, category: str, label: str) -> None:
    result = bauer.compute(inputs)
    assert (result.score, result.category, result.category_label) == (total, category, label)


@pytest.mark.parametrize(("inputs", "total", "category", "label"), MODIFIED)
def test_modified_boundaries(inputs: dict[str, object], total: int, category: str, label: str) -> None:
    result = bauer.compute_modified(inputs)
    assert (result.score, result.category, result.category_label) == (total, category, label)
    assert result.system == "bauer_modified"


@pytest.mark.parametrize("item", list(ZERO))
def test_missing_item(item: str) -> None:
    result = bauer.compute({**ZERO, item: None})
    assert (result.status, result.missing, result.score) == ("incomplete", (item,), None)
    if item != "pathological_fracture":
        modified = bauer.compute_modified({**ZERO, item: None})
        assert (modified.status, modified.missing) == ("incomplete", (item,))
