"""spec 3.2: Bilsky ESCC grades, ranks and classes."""

from __future__ import annotations

import pytest

from scoring.rules import bilsky

GRADES = [
    ("0", 0, "low", "Low grade (0, 1a, 1b)"),
    ("1a", 1, "low", "Low grade (0, 1a, 1b)"),
    ("1b", 2, "low", "Low grade (0, 1a, 1b)"),
    ("1c", 3, "borderline", "Borderline (1c)"),  # never low or high
    ("2", 4, "high", "High grade (2, 3)"),
    ("3", 5, "high", "High grade (2, 3)"),
]


@pytest.mark.parametrize(("grade", "rank", "category", "label"), GRADES)
def test_grade(grade: str, rank: int, category: str, label: str) -> None:
    result = bilsky.compute({"grade": grade})
    assert (result.score, result.rank, result.category, result.category_label) == (grade, rank, category, label)
    assert [(i.item, i.value, i.points) for i in result.items] == [("grade", grade, None)]
    assert result.to_dict()["rank"] == rank


def test_only_the_published_grades_exist() -> None:
    assert list(bilsky.GRADES) == [g[0] for g in GRADES]


@pytest.mark.parametrize("inputs", [{}, {"grade": None}])
def test_missing_grade(inputs: dict[str, object]) -> None:
    result = bilsky.compute(inputs)
    assert (result.status, result.missing, result.score, result.rank, result.items) == (
        "incomplete",
        ("grade",),
        None,
        None,
        (),
    )
    assert "rank" not in result.to_dict()
