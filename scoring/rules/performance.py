"""Performance status: Karnofsky (KPS) and ECOG (spec 3.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scoring.rules.base import ResultBuilder, ScoreResult, SystemMeta
from scoring.rules.kps import KPS_TO_ECOG, resolve_kps

META: Final = SystemMeta(
    name="performance_status",
    title="Performance status (Karnofsky / ECOG)",
    citation=(
        "Karnofsky DA, Burchenal JH 1949 (KPS); Oken MM et al., Am J Clin Oncol 1982;5(6):649-655 (ECOG); "
        "crosswalk Buccheri G et al., Eur J Cancer 1996;32A(7):1135-1141"
    ),
)


def compute(inputs: Mapping[str, Any]) -> ScoreResult:
    """Score = KPS, category = ECOG grade as a string.

    Given an ECOG grade, the KPS is converted (flagged) and the category is the recorded grade:
    a KPS is never converted back to ECOG (spec 3.3). Should both arrive, the KPS wins, as in
    spec 4.3. Neither known is reported as missing `kps`.
    """
    builder = ResultBuilder(META, inputs)
    ecog = inputs.get("ecog")
    resolved = resolve_kps(inputs.get("kps"), ecog)
    if resolved.kps is None:
        builder.need("kps")
        return builder.incomplete()
    if resolved.converted:
        builder.item("ecog", ecog, None)
        grade = ecog
    else:
        grade = KPS_TO_ECOG[resolved.kps]
    builder.item("kps", resolved.kps, None)
    for flag in resolved.flags:
        builder.flag(flag)
    return builder.complete(resolved.kps, str(grade), f"ECOG {grade}")
