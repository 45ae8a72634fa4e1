"""Reads of stored scores, shaped for the case page and `GET /api/v1/cases/<id>/scores/`."""

from __future__ import annotations

from typing import Any

from cases.models import Case
from scoring.models import CaseScore, Recommendation
from scoring.registry import REGISTRY, get_system
from scoring.services import sections_key


def _labels(system: str, missing: list[str]) -> list[str]:
    spec = get_system(system)
    labels = []
    for name in missing:
        try:
            labels.append(spec.input(name).label)
        except KeyError:
            labels.append(name.replace("_", " "))
    return labels


def _as_dict(row: CaseScore, current: bool) -> dict[str, Any]:
    return {
        "system": row.system,
        "level": row.level or None,
        "status": row.status,
        "score": row.score,
        "category": row.category,
        "category_label": row.category_label,
        "items": row.items,
        "flags": row.flags,
        "missing": row.missing,
        "missing_labels": _labels(row.system, row.missing),
        "citation": row.citation,
        "provisional": REGISTRY[row.system].provisional,
        "computed_at": row.computed_at,
        "version": row.version,
        "current": current,
    }


def case_scores(*, case: Case) -> list[dict[str, Any]]:
    """One entry per system in the registry's order; SINS and Bilsky carry `lesions`, the
    per-lesion results (spec 4.5). `current` is false while newer section versions await scoring:
    a result is never presented as current when it was computed from older sections."""
    key = sections_key(case.pk)
    rows = list(CaseScore.objects.filter(case=case))
    by_system: dict[str, dict[str, Any]] = {}
    lesions: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        entry = _as_dict(row, current=row.sections_key == key)
        if row.level:
            lesions.setdefault(row.system, []).append(entry)
        else:
            by_system[row.system] = entry
    out = []
    for name in REGISTRY:
        if name in by_system:
            entry = by_system[name]
            if name in ("sins", "bilsky"):
                entry["lesions"] = lesions.get(name, [])
            out.append(entry)
    return out


DECISION_SUPPORT_NOTE = (
    "Decision support: the system proposes, the board decides. Prognostic scores are context and no "
    "rule reads them (spec 1.6); the board's decision records whether it follows this proposal, and why not."
)


def case_recommendation(*, case: Case) -> dict[str, Any] | None:
    """The latest stored NOMS proposal (contract shape) with `computed_at`, `version`, `current`."""
    row = Recommendation.objects.filter(case=case).order_by("-computed_at", "-id").first()
    if row is None:
        return None
    return {
        **row.proposal,
        "computed_at": row.computed_at,
        "version": row.engine_version,
        "current": row.sections_key == sections_key(case.pk),
        "note": DECISION_SUPPORT_NOTE,
    }
