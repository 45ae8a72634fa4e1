"""spec 3.10 / 2.2 note 3: radiosensitivity classes from review 4.5."""

from __future__ import annotations

import pytest

from scoring.rules import radiosensitivity
from scoring.rules.flags import FLAG_GERMINOMA
from scoring.rules.primary import PRIMARY_CODES

SENSITIVE = {"breast", "prostate", "myeloma", "lymphoma", "germ_cell"}
RESISTANT = {"kidney", "colon", "rectum", "melanoma", "sarcoma", "osteosarcoma", "thyroid", "liver", "lung_nsclc"}
LABELS = {
    "radiosensitive": "Radiosensitive",
    "radioresistant": "Radioresistant",
    "unclassified": "Not classified by the review",
}


@pytest.mark.parametrize("primary", PRIMARY_CODES)
def test_class(primary: str) -> None:
    expected = (
        "radiosensitive" if primary in SENSITIVE else "radioresistant" if primary in RESISTANT else "unclassified"
    )
    result = radiosensitivity.compute({"primary": primary})
    assert (result.score, result.category, result.category_label) == (None, expected, LABELS[expected])
    assert [(i.item, i.value, i.points) for i in result.items] == [("primary", primary, None)]
    assert result.flags == ((FLAG_GERMINOMA,) if primary == "germ_cell" else ())


def test_missing_primary() -> None:
    result = radiosensitivity.compute({})
    assert (result.status, result.missing, result.category) == ("incomplete", ("primary",), None)
