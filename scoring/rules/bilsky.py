"""Bilsky epidural spinal cord compression (ESCC) grade (spec 3.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import ResultBuilder, ScoreResult, SystemMeta

META: Final = SystemMeta(
    name="bilsky",
    title="Bilsky epidural spinal cord compression (ESCC) grade",
    citation="Bilsky MH et al., J Neurosurg Spine 2010;13(3):324-328, doi:10.3171/2010.3.SPINE09459",
)

# spec 3.2: grade -> (rank, category). 1c is its own class, never low or high.
GRADES: Final[dict[str, tuple[int, str]]] = {
    "0": (0, "low"),
    "1a": (1, "low"),
    "1b": (2, "low"),
    "1c": (3, "borderline"),
    "2": (4, "high"),
    "3": (5, "high"),
}
# spec 3.2 labels.
CATEGORY_LABELS: Final[dict[str, str]] = {
    "low": "Low grade (0, 1a, 1b)",
    "borderline": "Borderline (1c)",
    "high": "High grade (2, 3)",
}


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """The grade is the score (a string); `rank` orders grades; the item has no points."""
    builder = ResultBuilder(META, inputs)
    grade = builder.get("grade")
    if grade is None:
        return builder.incomplete()
    rank, category = GRADES[grade]
    builder.item("grade", grade, None)
    return builder.complete(grade, category, CATEGORY_LABELS[category], rank=rank)
