"""Radiosensitivity of the primary to conventional EBRT (spec 3.10, review 4.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import ResultBuilder, ScoreResult, SystemMeta
from scoring.rules.flags import FLAG_GERMINOMA
from scoring.rules.primary import Radiosensitivity, primary_mapping

META: Final = SystemMeta(
    name="radiosensitivity",
    title="Radiosensitivity to conventional external beam radiotherapy",
    citation=(
        "review 4.5 (radiosensitivity to conventional external beam radiotherapy); framework "
        "Laufer I et al., Oncologist 2013;18(6):744-751, doi:10.1634/theoncologist.2012-0293"
    ),
)

# spec 3.10 labels.
CATEGORY_LABELS: Final[dict[Radiosensitivity, str]] = {
    Radiosensitivity.RADIOSENSITIVE: "Radiosensitive",
    Radiosensitivity.RADIORESISTANT: "Radioresistant",
    Radiosensitivity.UNCLASSIFIED: "Not classified by the review",
}


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """Category from spec 2.1 "Radiosensitivity"; `score` is always None."""
    builder = ResultBuilder(META, inputs)
    primary = builder.get("primary")
    if primary is None:
        return builder.incomplete()
    row = primary_mapping(primary)
    builder.item("primary", primary, None)
    if row.germinoma_convention:
        builder.flag(FLAG_GERMINOMA)
    return builder.complete(None, row.radiosensitivity.value, CATEGORY_LABELS[row.radiosensitivity])
