"""The readiness gate: what a case still needs before the board can decide on it.

A case is `ready` only when all four sections are submitted and the minimum dataset is present,
so no case reaches a meeting only to be deferred for missing information. Each missing item names
the discipline that owes it, so the case page can say exactly what is missing and from whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from cases.models import Case
from cases.vocabulary import Discipline, SectionState

COORDINATOR = "coordinator"


@dataclass(frozen=True, slots=True)
class Missing:
    owner: str  # a section discipline, or "coordinator" for referral data
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"owner": self.owner, "field": self.field, "message": self.message}


def case_missing(case: Case, *, today: date | None = None) -> list[Missing]:
    """Everything that keeps the case from `ready`, in section order. Empty means ready."""
    today = today or timezone.localdate()
    missing: list[Missing] = []
    for discipline in Discipline:
        section = getattr(case, discipline.value)
        if section.state != SectionState.SUBMITTED:
            missing.append(Missing(discipline.value, "state", f"{discipline.label} section not submitted"))

    radiology = case.radiology
    if radiology.whole_spine_imaging_at is None:
        missing.append(Missing(Discipline.RADIOLOGY, "whole_spine_imaging_at", "date of the whole-spine MRI"))
    else:
        max_age = settings.READINESS_MRI_MAX_AGE_DAYS
        imaged = timezone.localdate(radiology.whole_spine_imaging_at)
        if today - imaged > timedelta(days=max_age):
            missing.append(
                Missing(
                    Discipline.RADIOLOGY,
                    "whole_spine_imaging_at",
                    f"whole-spine MRI of {imaged.isoformat()} is older than {max_age} days: a current one is needed",
                )
            )

    oncology = case.oncology
    if not oncology.primary:
        missing.append(Missing(Discipline.ONCOLOGY, "primary", "primary tumour"))
    elif oncology.primary == "unknown":
        if not oncology.unknown_primary_workup_planned:
            missing.append(
                Missing(
                    Discipline.ONCOLOGY,
                    "unknown_primary_workup_planned",
                    "unknown primary: confirm that the work-up is planned",
                )
            )
    elif not oncology.histology_detail.strip():
        missing.append(Missing(Discipline.ONCOLOGY, "histology_detail", "histology"))
    if oncology.kps is None and oncology.ecog is None:
        missing.append(Missing(Discipline.ONCOLOGY, "kps", "performance status (KPS or ECOG)"))
    if oncology.expected_survival_months is None:
        missing.append(Missing(Discipline.ONCOLOGY, "expected_survival_months", "expected survival estimate"))
    if not case.goals.strip():
        missing.append(Missing(COORDINATOR, "goals", "the patient's stated goals and preferences"))
    return missing
