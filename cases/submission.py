"""What a section must hold to be signed (conditional requirements of spec 4).

Enforced by `section_submit` itself, so no caller can sign a section that breaks them; the API and
the browser show the same messages next to the fields.
"""

from __future__ import annotations

from cases.models import SectionBase
from cases.vocabulary import Discipline


def section_submit_errors(section: SectionBase) -> dict[str, list[str]]:
    if section.DISCIPLINE == Discipline.RADIOLOGY:
        lesions = list(section.lesions.all())  # type: ignore[attr-defined]
        if not lesions:
            return {"lesions": ["Describe at least one lesion before submitting."]}
        if len(lesions) > 1 and sum(1 for lesion in lesions if lesion.is_index) != 1:
            return {"lesions": ["With several lesions, mark exactly one as the index lesion (spec 4.5)."]}
    if section.DISCIPLINE == Discipline.SURGERY:
        errors: dict[str, list[str]] = {}
        if section.motor_deficit and section.motor_deficit_onset is None:  # type: ignore[attr-defined]
            errors["motor_deficit_onset"] = ["Required when motor_deficit is true (spec 4.2)."]
        if section.fit_for_surgery is False and not section.fit_for_surgery_reason.strip():  # type: ignore[attr-defined]
            errors["fit_for_surgery_reason"] = ["Required when fit_for_surgery is false (spec 4.2)."]
        return errors
    return {}
