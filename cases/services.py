"""Writes for patients, cases and sections (house style 1: services own writes).

Every service is atomic, validates before saving, records the acting user in history and, where
a section changes, asks for the scores to be recomputed after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Board, User
from cases import lifecycle
from cases.emergency import case_urgency_refresh
from cases.models import SECTION_MODELS, Case, Patient, SectionBase
from cases.readiness import case_missing
from cases.submission import section_submit_errors
from cases.vocabulary import CaseStatus, Discipline, SectionState
from common.errors import Conflict, StaleVersion
from common.history import stamp
from scoring.services import case_scores_request

LESION_FIELDS: dict[str, tuple[str, ...]] = {
    Discipline.RADIOLOGY: (
        "level",
        "is_index",
        "bone_lesion",
        "alignment",
        "collapse",
        "posterolateral",
        "escc_grade",
        "pathological_fracture",
        "retropulsion",
    ),
    Discipline.SURGERY: ("level", "mechanical_judgement", "prior_surgery"),
    Discipline.PAIN: ("level", "sins_pain"),
    Discipline.ONCOLOGY: (),
}


@transaction.atomic
def patient_get_or_create(*, board: Board, mrn: str, name: str, birth_date: date, sex: str) -> Patient:
    """The board's patient with this MRN, created if new.

    An existing MRN with another name or birth date is refused rather than silently reused: a
    mistyped MRN must never attach a case to the wrong person.
    """
    existing = Patient.objects.filter(board=board, mrn=mrn).first()
    if existing is not None:
        if existing.name != name or existing.birth_date != birth_date:
            raise ValidationError(
                {
                    "mrn": (
                        f"MRN {mrn} already belongs to {existing.name}, born {existing.birth_date.isoformat()}, "
                        "on this board. Check the MRN, or use that patient's name and birth date."
                    )
                }
            )
        return existing
    patient = Patient(board=board, mrn=mrn, name=name, birth_date=birth_date, sex=sex)
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def case_create(
    *,
    board: Board,
    created_by: User,
    patient: Mapping[str, Any],
    referral_reason: str,
    referred_primary: str,
    goals: str = "",
    referrer: str = "",
    referral_date: date | None = None,
) -> Case:
    """Register a referral: the patient (reused by MRN within the board), the case and its four
    empty sections, in status `referred`. Enqueues the first (incomplete) scoring on commit."""
    person = patient_get_or_create(board=board, **patient)
    case = Case(
        patient=person,
        board=board,
        referral_date=referral_date or timezone.localdate(),
        referrer=referrer,
        referral_reason=referral_reason,
        referred_primary=referred_primary,
        goals=goals,
        created_by=created_by,
    )
    case.full_clean()
    stamp(case, "referral registered", created_by)
    case.save()
    for model in SECTION_MODELS.values():
        model.objects.create(case=case)  # type: ignore[attr-defined]
    case_scores_request(case=case)
    return case


def _check_version(section: SectionBase, expected_version: int) -> None:
    if section.version != expected_version:
        raise StaleVersion(expected=expected_version, current=section.version)


def _check_case_open(case: Case) -> None:
    if case.status not in lifecycle.OPEN_FOR_SECTIONS:
        raise Conflict(f"The case is {case.status}; its sections can no longer be changed.")


def _set_status(case: Case, target: str, reason: str, by: User | None = None) -> None:
    lifecycle.check_transition(case.status, target)
    case.status = target
    case.version += 1
    stamp(case, reason, by)
    case.save(update_fields=["status", "version", "updated_at"])


@transaction.atomic
def case_transition(*, case: Case, target: str, reason: str, by: User | None = None) -> Case:
    """Move a case along its life cycle; InvalidTransition (409) when the table forbids it."""
    _set_status(case, target, reason, by)
    return case


def _refresh_readiness(case_id: int, by: User) -> None:
    """referred -> in_workup on the first change; in_workup <-> ready as the gate opens or closes.

    Works on a fresh row (the caller's copy may predate the urgency refresh), so history records
    the case as it is.
    """
    case = Case.objects.select_related("radiology", "surgery", "oncology", "pain").get(pk=case_id)
    if case.status == CaseStatus.REFERRED:
        _set_status(case, CaseStatus.IN_WORKUP, "work-up started", by)
    complete = not case_missing(case)
    if case.status == CaseStatus.IN_WORKUP and complete:
        _set_status(case, CaseStatus.READY, "all sections submitted and the minimum dataset present", by)
    elif case.status == CaseStatus.READY and not complete:
        _set_status(case, CaseStatus.IN_WORKUP, "a section is no longer complete", by)
    # A scheduled case keeps its place on the agenda when a section is reopened: the agenda e-mail
    # lists what is missing from whom so the specialist can finish before the meeting.


def _lock_case(section: SectionBase) -> Case:
    """The section's case, locked for this transaction. Writers of different sections of one case
    queue here, so case-level facts (version, urgency, status) are never computed from a stale read.
    FOR NO KEY UPDATE: it does not block the score task's rows that only reference the case."""
    return Case.objects.select_for_update(no_key=True, of=("self",)).get(pk=section.case_id)  # type: ignore[attr-defined]


def _replace_lesions(section: SectionBase, discipline: str, lesions: Sequence[Mapping[str, Any]], by: User) -> None:
    """A `lesions` list replaces the section's per-lesion entries (contract: PATCH semantics).

    Entries are matched by level, so history shows "T4 changed" rather than delete-and-add.
    """
    manager = section.lesions  # type: ignore[attr-defined]
    model = manager.model
    existing = {lesion.level: lesion for lesion in manager.all()}
    wanted = {entry["level"]: entry for entry in lesions}
    for level, old in existing.items():
        if level not in wanted:
            stamp(old, "lesion removed", by)
            old.delete()
    # Clear a moved index mark before setting the new one (one index lesion per section).
    if discipline == Discipline.RADIOLOGY:
        for level, old in existing.items():
            if level in wanted and old.is_index and not wanted[level].get("is_index", False):
                old.is_index = False
                stamp(old, "index lesion moved", by)
                old.save(update_fields=["is_index"])
    for level, entry in wanted.items():
        lesion = existing.get(level) or model(section=section)
        for name in LESION_FIELDS[discipline]:
            default = model._meta.get_field(name).get_default()
            setattr(lesion, name, entry.get(name, default))
        lesion.full_clean(exclude=["section"], validate_unique=False, validate_constraints=False)
        stamp(lesion, "lesion updated" if lesion.pk else "lesion added", by)
        lesion.save()


@transaction.atomic
def section_update(
    *,
    section: SectionBase,
    by: User,
    expected_version: int,
    fields: Mapping[str, Any],
    lesions: Sequence[Mapping[str, Any]] | None = None,
) -> SectionBase:
    """Save a specialist's changes to their section (a draft, or reopened).

    Expects `section` locked (select_for_update) and `fields` already validated by the section
    serializer. Raises StaleVersion when `expected_version` is not the current version (nothing is
    written), Conflict when the section is submitted (reopen it first) or the case is past its
    meeting. The version increases by one; scores are recomputed on commit.
    """
    case = _lock_case(section)
    _check_version(section, expected_version)
    _check_case_open(case)
    if section.state == SectionState.SUBMITTED:
        raise Conflict("This section is submitted. Reopen it, with a reason, to change it.")
    discipline = section.DISCIPLINE
    for name, value in fields.items():
        setattr(section, name, value)
    section.version += 1
    section.updated_by = by
    section.full_clean(exclude=["case"])
    stamp(section, "section edited", by)
    section.save()
    if lesions is not None:
        _replace_lesions(section, discipline, lesions, by)
    _after_section_change(case, by)
    return section


@transaction.atomic
def section_submit(*, section: SectionBase, by: User, expected_version: int) -> SectionBase:
    """Sign the section with the submitter's name and time; the case may become `ready`.

    Raises ValidationError, naming the fields, when the section breaks a submission rule
    (cases.submission).
    """
    case = _lock_case(section)
    _check_version(section, expected_version)
    _check_case_open(case)
    if section.state == SectionState.SUBMITTED:
        raise Conflict("This section is already submitted.")
    errors = section_submit_errors(section)
    if errors:
        raise ValidationError(errors)
    section.state = SectionState.SUBMITTED
    section.submitted_by = by
    section.submitted_at = timezone.now()
    section.updated_by = by
    section.version += 1
    stamp(section, "section submitted", by)
    section.save()
    _after_section_change(case, by)
    return section


@transaction.atomic
def section_reopen(*, section: SectionBase, by: User, expected_version: int, reason: str) -> SectionBase:
    """Reopen a submitted section for changes, with the reason kept in its history.

    The signature is cleared (the next submission signs again); a ready or scheduled case goes back
    to work-up.
    """
    case = _lock_case(section)
    _check_version(section, expected_version)
    _check_case_open(case)
    if section.state != SectionState.SUBMITTED:
        raise Conflict("Only a submitted section can be reopened.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the section is reopened."})
    section.state = SectionState.DRAFT
    section.reopen_reason = reason
    section.submitted_by = None
    section.submitted_at = None
    section.updated_by = by
    section.version += 1
    stamp(section, f"reopened: {reason}", by)
    section.save()
    _after_section_change(case, by)
    return section


def _after_section_change(case: Case, by: User) -> None:
    # spec 6.1: urgency and the MSCC trigger are evaluated on every save, in this transaction.
    case_urgency_refresh(case_id=case.pk, by=by)
    _refresh_readiness(case.pk, by)
    case_scores_request(case=case)
