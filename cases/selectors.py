"""Reads of cases and sections, scoped to the asking user (not visible means 404)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import Membership, User
from cases.models import SECTION_MODELS, Case, SectionBase
from cases.vocabulary import SECTION_OWNER

SECTION_RELATED = ("radiology", "surgery", "oncology", "pain")
# What the API's case JSON reads beyond the case row (cases.api.v1.serializers.CaseSerializer).
CASE_JSON_RELATED_FIELDS = (
    *(f"patient__{name}" for name in ("id", "mrn", "name", "birth_date", "sex")),
    *(
        f"{section}__{name}"
        for section in SECTION_RELATED
        for name in ("id", "case_id", "state", "version", "submitted_at")
    ),
    "oncology__primary",
)


def case_rows_for_user(*, user: User) -> QuerySet[Case]:
    """Cases of the user's boards with what the API's case JSON shows (patient, each section's
    state): one query for any number of cases. Nothing more is joined: every relation added to
    this query costs PostgreSQL planning time on every page (bench/README.md)."""
    return (
        Case.objects.visible_to(user)
        .select_related("patient", *SECTION_RELATED)
        # The sections' clinical columns stay behind: the case JSON shows each section's state only.
        .only(*(f.name for f in Case._meta.concrete_fields), *CASE_JSON_RELATED_FIELDS)
        .order_by("-updated_at", "-id")
    )


def case_list_for_user(*, user: User) -> QuerySet[Case]:
    """Cases of the user's boards with patient, board and sections (the browser lists): one query."""
    return (
        Case.objects.visible_to(user)
        .select_related("patient", "board", *SECTION_RELATED)
        .order_by("-updated_at", "-id")
    )


def case_detail_queryset(*, user: User) -> QuerySet[Case]:
    """As the list, plus every section's lesions and signers (the browser's case page)."""
    signers = [f"{section}__{who}" for section in SECTION_RELATED for who in ("submitted_by", "updated_by")]
    return (
        case_list_for_user(user=user)
        .select_related(*signers)
        .prefetch_related(Prefetch("radiology__lesions"), Prefetch("surgery__lesions"), Prefetch("pain__lesions"))
    )


def case_get_for_user(*, user: User, case_id: int, for_update: bool = False) -> Case:
    qs = Case.objects.visible_to(user) if for_update else case_detail_queryset(user=user)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    case = qs.filter(pk=case_id).first()
    if case is None:
        raise Http404("No case with this id on your boards.")
    return case


def membership_for_case_board(*, user: User, board_id: int) -> Membership | None:
    return Membership.objects.active().filter(user=user, board_id=board_id).first()


def membership_for_case(*, user: User, case: Case) -> Membership | None:
    return membership_for_case_board(user=user, board_id=case.board_id)


def section_of(case: Case, discipline: str) -> SectionBase:
    section: SectionBase = getattr(case, discipline)
    return section


def section_get_for_update(*, case: Case, discipline: str) -> SectionBase:
    """The section row locked for the rest of the transaction (concurrent writers queue here)."""
    model = SECTION_MODELS[discipline]
    return model.objects.select_for_update().get(case=case)  # type: ignore[attr-defined,no-any-return]


def can_edit_section(membership: Membership | None, discipline: str) -> bool:
    """Only board members of the owning discipline write a section (service accounts never)."""
    return bool(membership and membership.can_write and membership.discipline == SECTION_OWNER[discipline])


def can_coordinate(membership: Membership | None) -> bool:
    return bool(membership and membership.can_write and membership.is_coordinator)
