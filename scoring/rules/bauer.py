"""Bauer score and modified Bauer score (spec 3.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import Band, ResultBuilder, ScoreResult, SystemMeta
from scoring.rules.flags import FLAG_UNKNOWN_NOT_LUNG
from scoring.rules.primary import primary_mapping

_CITATION: Final = (
    "Bauer HC, Wedin R, Acta Orthop Scand 1995;66(2):143-146, doi:10.3109/17453679508995508; "
    "modified: Leithner A et al., Eur Spine J 2008;17(11):1488-1495, doi:10.1007/s00586-008-0763-1"
)
META: Final = SystemMeta(name="bauer", title="Bauer score", citation=_CITATION)
META_MODIFIED: Final = SystemMeta(name="bauer_modified", title="Modified Bauer score", citation=_CITATION)

# spec 3.6: one point for each favourable state.
VISCERAL_OR_BRAIN_POINTS: Final[dict[bool, int]] = {False: 1, True: 0}
SOLITARY_POINTS: Final[dict[bool, int]] = {True: 1, False: 0}
FRACTURE_POINTS: Final[dict[bool, int]] = {False: 1, True: 0}

# spec 3.6 categories.
BANDS: Final[tuple[Band, ...]] = (
    Band(0, 1, "poor", "Poor (0-1)"),
    Band(2, 3, "intermediate", "Intermediate (2-3)"),
    Band(4, 5, "good", "Good (4-5)"),
)
BANDS_MODIFIED: Final[tuple[Band, ...]] = (
    Band(0, 1, "poor", "Poor (0-1)"),
    Band(2, 2, "intermediate", "Intermediate (2)"),
    Band(3, 4, "good", "Good (3-4)"),
)


def _score_common(builder: ResultBuilder) -> None:
    """The four items both variants share, in the spec's summing order."""
    builder.choice("visceral_or_brain_metastases", VISCERAL_OR_BRAIN_POINTS)
    builder.choice("solitary_skeletal_metastasis", SOLITARY_POINTS)
    primary = builder.get("primary")
    if primary is None:
        return
    row = primary_mapping(primary)  # spec 2.1 "Bauer not lung" and "Bauer favourable"
    builder.item("not_lung", primary, row.bauer_not_lung)
    builder.item("favourable_primary", primary, row.bauer_favourable)
    if row.unknown_not_lung:
        builder.flag(FLAG_UNKNOWN_NOT_LUNG)


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """Bauer (0-5): the four shared items plus no pathological fracture."""
    builder = ResultBuilder(META, inputs)
    _score_common(builder)
    builder.choice("pathological_fracture", FRACTURE_POINTS)
    return builder.summed(BANDS)


def compute_modified(inputs: Mapping[str, Any]) -> ScoreResult:
    """Modified Bauer (0-4): the fracture item is dropped."""
    builder = ResultBuilder(META_MODIFIED, inputs)
    _score_common(builder)
    return builder.summed(BANDS_MODIFIED)
