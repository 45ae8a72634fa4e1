"""Case pages for the browser: my work, the case list, the case page, section forms, referral and
history.

Login is enforced by LoginRequiredMiddleware. Reads go through `cases.selectors` (a case outside
the user's boards is a 404, as in the API); writes go through `cases.services` under the same row
lock and version check as the API, and section input is validated by the API's serializers (see
`cases.forms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Model, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Board, Membership, User
from accounts.selectors import board_list_for_user
from cases import lifecycle, selectors, services
from cases.api.v1.serializers import SECTION_SERIALIZERS
from cases.forms import ReferralForm, SectionEditor, label_for, section_rows, section_values
from cases.history import HistoryEntry, case_history
from cases.models import SECTION_MODELS, Case, CaseQuerySet, PainLesion, RadiologyLesion, SectionBase, SurgeryLesion
from cases.readiness import COORDINATOR, case_missing
from cases.views_panels import case_panels
from cases.vocabulary import SECTION_OWNER, CaseStatus, Discipline, SectionState
from common.audit import note_case
from common.errors import Conflict, StaleVersion
from scoring.registry import REGISTRY
from scoring.selectors import case_scores

# Who owes an item of the readiness list, as the case page names them.
OWNER_LABELS: Final[dict[str, str]] = {
    Discipline.RADIOLOGY: "Radiologist",
    Discipline.SURGERY: "Spine surgeon",
    Discipline.ONCOLOGY: "Oncologist",
    Discipline.PAIN: "Pain specialist",
    COORDINATOR: "Coordinator",
}
SECTION_OF_OWNER: Final[dict[str, str]] = {owner: section for section, owner in SECTION_OWNER.items()}
# What the case page shows of each section at a glance.
KEY_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    Discipline.RADIOLOGY: ("vertebrae_involved", "whole_spine_imaging_modality", "whole_spine_imaging_at"),
    Discipline.SURGERY: ("frankel", "ambulatory_status", "motor_deficit", "fit_for_surgery"),
    Discipline.ONCOLOGY: ("primary", "histology_detail", "kps", "ecog", "expected_survival_months"),
    Discipline.PAIN: ("vas", "analgesic_step", "night_or_rest_pain"),
}
# Cases a coordinator or chair still has to act on: gather data, or schedule when ready.
ATTENTION_STATUSES: Final = (CaseStatus.REFERRED, CaseStatus.IN_WORKUP, CaseStatus.READY)
CASES_PER_PAGE: Final = 50


@dataclass(frozen=True, slots=True)
class MissingItem:
    owner: str
    message: str


def _missing(case: Case) -> list[MissingItem]:
    return [MissingItem(OWNER_LABELS[m.owner], m.message) for m in case_missing(case)]


def _visible_cases(user: User) -> CaseQuerySet:
    # The selector is annotated as a plain QuerySet; the value is the model's CaseQuerySet, whose
    # `by_priority()` the lists need.
    return selectors.case_list_for_user(user=user)  # type: ignore[return-value]


def _memberships(user: User) -> list[Membership]:
    return [m for board in board_list_for_user(user=user) for m in board.my_memberships]  # type: ignore[attr-defined]


def _coordinated_boards(user: User) -> list[Board]:
    boards = board_list_for_user(user=user)
    return [b for b in boards if any(selectors.can_coordinate(m) for m in b.my_memberships)]  # type: ignore[attr-defined]


# --- lists


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """Every case of the user's boards: emergencies first, then urgent, oldest referral first."""
    user: User = request.user  # type: ignore[assignment]
    cases = _visible_cases(user).by_priority()
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [_list_row(case) for case in page]
    context = {"page": page, "rows": rows, "can_refer": bool(_coordinated_boards(user))}
    return render(request, "cases/case_list.html", context)


@dataclass(frozen=True, slots=True)
class ListRow:
    case: Case
    missing_count: int
    owing: list[str]  # who still owes something, each once


def _list_row(case: Case) -> ListRow:
    # The list says how much is missing and from whom; the case page says exactly what.
    missing = _missing(case)
    return ListRow(case, len(missing), list(dict.fromkeys(item.owner for item in missing)))


@dataclass(frozen=True, slots=True)
class WorkItem:
    case: Case
    section: SectionBase
    discipline: str
    missing: list[MissingItem]  # what this specialist owes on the case


@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    """A specialist's waiting sections; for coordinators and chairs, the cases needing attention."""
    user: User = request.user  # type: ignore[assignment]
    memberships = [m for m in _memberships(user) if m.can_write]
    open_cases = _visible_cases(user).filter(status__in=lifecycle.OPEN_FOR_SECTIONS)

    # A person may hold different disciplines on different boards: each board asks for its own.
    owned = {m.board_id: SECTION_OF_OWNER[m.discipline] for m in memberships if m.discipline}
    waiting = Q()
    for board_id, discipline in owned.items():
        waiting |= Q(board_id=board_id) & ~Q(**{f"{discipline}__state": SectionState.SUBMITTED})
    work: list[WorkItem] = []
    if owned:
        for case in open_cases.filter(waiting).by_priority():
            discipline = owned[case.board_id]
            owed = [MissingItem(OWNER_LABELS[m.owner], m.message) for m in case_missing(case) if m.owner == discipline]
            work.append(WorkItem(case, selectors.section_of(case, discipline), discipline, owed))

    coordinating = [m.board_id for m in memberships if m.is_chair or m.is_coordinator]
    attention: list[tuple[Case, list[MissingItem]]] = []
    if coordinating:
        cases = open_cases.filter(board_id__in=coordinating, status__in=ATTENTION_STATUSES).by_priority()
        attention = [(case, _missing(case)) for case in cases]
    context = {
        "work": work,
        "is_specialist": bool(owned),
        "is_coordinating": bool(coordinating),
        "ready": [(case, missing) for case, missing in attention if case.status == CaseStatus.READY],
        "in_workup": [(case, missing) for case, missing in attention if case.status != CaseStatus.READY],
    }
    return render(request, "cases/my_work.html", context)


# --- referral


@require_http_methods(["GET", "POST"])
def referral_create(request: HttpRequest) -> HttpResponse:
    """A coordinator registers a referral on one of the boards they coordinate (403 otherwise)."""
    user: User = request.user  # type: ignore[assignment]
    boards = _coordinated_boards(user)
    if not boards:
        raise PermissionDenied("Only a board's coordinators register referrals.")
    form = ReferralForm(request.POST if request.method == "POST" else None, boards=boards)
    if form.is_bound and (values := form.validate(request)) is not None:
        board = values.pop("board")
        try:
            case = services.case_create(board=board, created_by=user, **values)
        except ValidationError as error:
            # The patient check (an MRN that belongs to another person) is the service's.
            form.add_api_errors(error.message_dict)
        else:
            messages.success(request, f"Referral registered: case {case.pk}.")
            return redirect("cases:detail", case_id=case.pk)
    status = 400 if form.is_bound else 200
    return render(request, "cases/referral_form.html", {"form": form}, status=status)


# --- the case page


@dataclass(frozen=True, slots=True)
class SectionCard:
    discipline: str
    title: str
    section: SectionBase
    values: list[Any]
    rows: list[tuple[str, list[str]]]
    can_edit: bool


@dataclass(frozen=True, slots=True)
class ItemLine:
    label: str
    value: str
    points: int | None


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One score as the case page shows it."""

    system: str
    title: str
    level: str | None
    current: bool
    complete: bool
    score: Any
    category_label: str | None
    items: list[ItemLine]
    flags: list[str]
    missing_text: str
    provisional: bool
    citation: str
    version: str
    lesions: list[ScoreLine]


def _lower_first(label: str) -> str:
    # "Number of extraspinal ..." reads as "number of extraspinal ..." mid-sentence; an acronym
    # ("KPS ...", "ESCC ...") keeps its capitals.
    head = label.split(" ", 1)[0]
    return label if head.isupper() else label[:1].lower() + label[1:]


def _score_line(entry: dict[str, Any]) -> ScoreLine:
    system = REGISTRY[entry["system"]]
    labels = {spec.name: spec.label for spec in system.inputs}
    items = [
        ItemLine(
            labels.get(item["item"], label_for(item["item"])),
            ("yes" if item["value"] else "no")
            if isinstance(item["value"], bool)
            else str(item["value"]).replace("_", " "),
            item["points"],
        )
        for item in entry["items"]
    ]
    return ScoreLine(
        system=entry["system"],
        title=system.title,
        level=entry["level"],
        current=entry["current"],
        complete=entry["status"] == "complete",
        score=entry["score"],
        category_label=entry["category_label"],
        items=items,
        flags=list(entry["flags"]),
        missing_text=", ".join(_lower_first(label) for label in entry["missing_labels"]),
        provisional=entry["provisional"],
        citation=entry["citation"],
        version=entry["version"],
        lesions=[_score_line(lesion) for lesion in entry.get("lesions", [])],
    )


def _section_cards(case: Case, membership: Membership | None) -> list[SectionCard]:
    cards = []
    for discipline in Discipline:
        section = selectors.section_of(case, discipline.value)
        cards.append(
            SectionCard(
                discipline=discipline.value,
                title=discipline.label,
                section=section,
                values=section_values(section, KEY_FIELDS[discipline.value]),
                rows=section_rows(section, case),
                can_edit=selectors.can_edit_section(membership, discipline.value),
            )
        )
    return cards


@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    note_case(request, case_id=case.pk, board_id=case.board_id)
    membership = selectors.membership_for_case(user=user, case=case)
    context = {
        "case": case,
        "primary": case.get_referred_primary_display()
        if not case.oncology.primary
        else case.oncology.get_primary_display(),
        "missing": _missing(case),
        "sections": _section_cards(case, membership),
        "scores": [_score_line(entry) for entry in case_scores(case=case)],
        **case_panels(case, membership),
    }
    return render(request, "cases/case_detail.html", context)


# --- section form


def _section_context(case: Case, section: SectionBase, membership: Membership | None) -> dict[str, Any]:
    discipline = section.DISCIPLINE
    owner = selectors.can_edit_section(membership, discipline)
    is_open = case.status in lifecycle.OPEN_FOR_SECTIONS
    return {
        "case": case,
        "section": section,
        "discipline": discipline,
        "title": Discipline(discipline).label,
        "values": section_values(section),
        "rows": section_rows(section, case),
        "editable": owner and is_open and section.state == SectionState.DRAFT,
        "reopenable": owner and is_open and section.state == SectionState.SUBMITTED,
        "is_owner": owner,
        "owner_label": OWNER_LABELS[discipline].lower(),
        "is_open": is_open,
    }


def _render_section(
    request: HttpRequest,
    case: Case,
    section: SectionBase,
    membership: Membership | None,
    *,
    editor: SectionEditor | None = None,
    reopen_error: str = "",
    stale: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = _section_context(case, section, membership)
    context.update(
        editor=editor or SectionEditor(case=case, section=section),
        reopen_error=reopen_error,
        stale=stale,
        last_editor=section.updated_by.display_name if section.updated_by else None,
    )
    return render(request, "cases/section_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def section_edit(request: HttpRequest, case_id: int, discipline: str) -> HttpResponse:
    """GET shows the section (a form to its owner); POST saves a draft, saves and submits, or
    reopens. Outsiders get 404; board members of another discipline 403 on POST."""
    if discipline not in SECTION_MODELS:
        raise Http404("No such section.")
    user: User = request.user  # type: ignore[assignment]
    case = selectors.case_get_for_user(user=user, case_id=case_id)
    membership = selectors.membership_for_case(user=user, case=case)
    if request.method == "GET":
        return _render_section(request, case, selectors.section_of(case, discipline), membership)
    if not selectors.can_edit_section(membership, discipline):
        raise PermissionDenied(f"Only the board's {OWNER_LABELS[discipline].lower()}s edit this section.")
    try:
        expected = int(request.POST.get("version", ""))
    except ValueError:
        return HttpResponseBadRequest("The form did not say which version of the section it edits.")
    action = request.POST.get("action", "save")
    if action not in ("save", "submit", "reopen"):
        return HttpResponseBadRequest(f"Unknown action {action!r}.")
    return _section_post(request, case, discipline, membership, expected=expected, action=action)


def _section_post(
    request: HttpRequest, case: Case, discipline: str, membership: Membership | None, *, expected: int, action: str
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    url = reverse("cases:section", kwargs={"case_id": case.pk, "discipline": discipline})
    try:
        with transaction.atomic():
            # The same lock and comparison as the API: concurrent writers queue on the row, and a
            # form read before someone else's change is refused rather than overwriting it.
            section = selectors.section_get_for_update(case=case, discipline=discipline)
            if action == "reopen":
                reason = request.POST.get("reason", "").strip()
                if not reason:
                    return _render_section(
                        request, case, section, membership, reopen_error="Say why the section is reopened.", status=400
                    )
                if expected != section.version:
                    raise StaleVersion(expected=expected, current=section.version)
                services.section_reopen(section=section, by=user, expected_version=expected, reason=reason)
                messages.success(request, "Section reopened: it can be edited again and must be submitted again.")
                return redirect(url)
            editor = SectionEditor(case=case, section=section, data=request.POST)
            if expected != section.version:
                editor.show_current()
                return _render_section(request, case, section, membership, editor=editor, stale=True, status=409)
            return _save(request, case, section, membership, editor, submit=action == "submit", url=url)
    except StaleVersion:
        messages.error(
            request,
            "Someone else changed this section since you opened it. Nothing was changed; check the section and try again.",
        )
        return redirect(url)
    except (Conflict, lifecycle.InvalidTransition) as error:
        messages.error(request, str(getattr(error, "detail", error)))
        return redirect(url)


def _save(
    request: HttpRequest,
    case: Case,
    section: SectionBase,
    membership: Membership | None,
    editor: SectionEditor,
    *,
    submit: bool,
    url: str,
) -> HttpResponse:
    """Save the draft when anything changed, then submit when asked; runs under the row lock."""
    user: User = request.user  # type: ignore[assignment]
    changed = editor.has_changed()
    if changed:
        if not editor.is_valid():
            return _render_section(request, case, section, membership, editor=editor, status=400)
        values = dict(editor.validated)
        lesions = values.pop("lesions", None)
        try:
            services.section_update(
                section=section, by=user, expected_version=section.version, fields=values, lesions=lesions
            )
        except ValidationError as error:
            # The service had already applied the values to this instance; show what is stored.
            section.refresh_from_db()
            editor.add_errors(error.message_dict)
            return _render_section(request, case, section, membership, editor=editor, status=400)
    if not submit:
        messages.success(request, "Draft saved." if changed else "Nothing to save: no field was changed.")
        return redirect(url)
    errors = SECTION_SERIALIZERS[section.DISCIPLINE](section, context={"case": case}).submit_errors()
    if errors:
        # The draft is saved; the form now shows the stored values with what submission still needs.
        fresh = SectionEditor(case=case, section=section)
        fresh.add_errors(errors)
        note = "Draft saved, but not submitted" if changed else "Not submitted"
        fresh.non_field_errors.insert(0, f"{note}: complete the fields marked below.")
        return _render_section(request, case, section, membership, editor=fresh, status=400)
    services.section_submit(section=section, by=user, expected_version=section.version)
    messages.success(request, "Section submitted and signed.")
    return redirect(url)


# --- history


@dataclass(frozen=True, slots=True)
class ChangeLine:
    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    by: str | None
    subject: str
    kind: str
    reason: str | None
    changes: list[ChangeLine]


def _choice_labels() -> dict[str, dict[Any, str]]:
    models: tuple[type[Model], ...] = (Case, *SECTION_MODELS.values(), RadiologyLesion, SurgeryLesion, PainLesion)
    return {f.attname: dict(f.flatchoices) for model in models for f in model._meta.concrete_fields if f.choices}


def _history_value(name: str, value: Any, names: dict[str, dict[Any, str]]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in names:
        return names[name].get(value, str(value))
    if isinstance(value, list):
        # Lists of records (prior radiotherapy) read as "Level T4, Dose (Gy) 8.0; ...".
        items = (
            ", ".join(f"{label_for(k)} {v}" for k, v in item.items()) if isinstance(item, dict) else str(item)
            for item in value
        )
        return "; ".join(items) or "none"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _history_lines(case: Case, entries: Sequence[HistoryEntry]) -> list[HistoryLine]:
    # Foreign keys are stored as ids; show the person, patient or board instead.
    user_ids = {c.old for e in entries for c in e.changes if c.field.endswith("_by_id")}
    user_ids |= {c.new for e in entries for c in e.changes if c.field.endswith("_by_id")}
    people = {u.pk: u.display_name for u in User.objects.filter(pk__in=user_ids - {None})}
    labels = _choice_labels()
    labels |= {"patient_id": {case.patient_id: str(case.patient)}, "board_id": {case.board_id: case.board.name}}
    for field_name in ("created_by_id", "submitted_by_id", "updated_by_id"):
        labels[field_name] = people
    return [
        HistoryLine(
            at=e.at,
            by=e.by,
            subject=e.subject,
            kind=e.kind,
            reason=e.reason,
            changes=[
                ChangeLine(
                    label_for(c.field.removesuffix("_id")),
                    _history_value(c.field, c.old, labels),
                    _history_value(c.field, c.new, labels),
                )
                for c in e.changes
            ],
        )
        for e in entries
    ]


@require_GET
def history(request: HttpRequest, case_id: int) -> HttpResponse:
    """Every change of the case, its sections and lesions, newest first, field by field."""
    case = selectors.case_get_for_user(user=request.user, case_id=case_id)  # type: ignore[arg-type]
    lines = _history_lines(case, case_history(case))
    return render(request, "cases/history.html", {"case": case, "lines": lines})
