"""A readable, field-by-field history of a case and its sections (django-simple-history).

Diffs are computed from consecutive historical rows of each object, fetched in one query per
historical table, so the cost does not grow with the number of changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model, QuerySet

from cases.models import (
    Case,
    OncologySection,
    PainLesion,
    PainSection,
    RadiologyLesion,
    RadiologySection,
    SurgeryLesion,
    SurgerySection,
)

# Bookkeeping that changes with every save and says nothing a reader needs.
_IGNORED = {"id", "version", "updated_at", "updated_by", "created_at", "section", "case", "history_id"}
_KIND = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    by: str | None
    subject: str  # "case", "radiology", "radiology lesion T4", ...
    kind: str  # created, changed, deleted
    reason: str | None
    changes: tuple[Change, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "by": self.by,
            "subject": self.subject,
            "kind": self.kind,
            "reason": self.reason,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
        }


def _fields(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name not in _IGNORED and f.attname not in _IGNORED]


def _entries(records: QuerySet[Any], model: type[Model], subject: Any) -> list[HistoryEntry]:
    fields = _fields(model)
    previous: dict[int, Any] = {}
    out = []
    for record in records.select_related("history_user").order_by("history_date", "history_id"):
        before = previous.get(record.id)
        if before is None or record.history_type != "~":
            changes = tuple(
                Change(f, None, getattr(record, f))
                for f in fields
                if record.history_type == "+" and getattr(record, f) not in (None, "", [], False)
            )
        else:
            changes = tuple(
                Change(f, getattr(before, f), getattr(record, f))
                for f in fields
                if getattr(before, f) != getattr(record, f)
            )
        previous[record.id] = record
        user = record.history_user
        out.append(
            HistoryEntry(
                at=record.history_date,
                by=user.display_name if user else None,
                subject=subject(record),
                kind=_KIND[record.history_type],
                reason=record.history_change_reason,
                changes=changes,
            )
        )
    return out


def case_history(case: Case) -> list[HistoryEntry]:
    """Every change of the case, its sections and lesions, newest first."""
    sections = {
        "radiology": (RadiologySection, RadiologyLesion),
        "surgery": (SurgerySection, SurgeryLesion),
        "oncology": (OncologySection, None),
        "pain": (PainSection, PainLesion),
    }
    entries = _entries(Case.history.filter(id=case.pk), Case, lambda r: "case")  # type: ignore[attr-defined]
    for name, (section_model, lesion_model) in sections.items():
        section = getattr(case, name)
        entries += _entries(section_model.history.filter(case_id=case.pk), section_model, lambda r, n=name: n)  # type: ignore[attr-defined]
        if lesion_model is not None:
            entries += _entries(
                lesion_model.history.filter(section_id=section.pk),  # type: ignore[attr-defined]
                lesion_model,
                lambda r, n=name: f"{n} lesion {r.level}",
            )
    # Only entries that say something: a save that changed nothing visible is left out.
    meaningful = [e for e in entries if e.changes or e.kind != "changed" or e.reason]
    return sorted(meaningful, key=lambda e: e.at, reverse=True)
