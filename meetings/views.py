"""Meeting pages for the browser: the meeting list, the agenda with attendance and quorum, live
meeting mode (one screen per case, with the decision form), the decision page, and the .ics files.

Login is enforced by LoginRequiredMiddleware. Reads go through the selectors (a meeting or decision
outside the user's boards is a 404, as in the API); writes go through `meetings.services` and the
agenda services of `meetings.scheduling`. Board members read; the chair and coordinators record
attendance and adjust the agenda; only the chair records, finalises and reopens decisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Final

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Board, Membership, User
from accounts.reauth import SIGNATURE_PASSWORD_MISMATCH, LockedOut, password_confirmed
from cases.emergency import emergency_state
from cases.forms import Value, section_rows, section_values
from cases.lifecycle import InvalidTransition
from cases.models import Case
from cases.selectors import case_get_for_user, section_of
from cases.views import KEY_FIELDS
from cases.vocabulary import Discipline, SectionState, Urgency
from common.errors import Conflict, StaleVersion
from meetings import calendar, scheduling, selectors, services
from meetings.forms import (
    SIGNATURE_MEANING,
    AgendaReasonForm,
    AttendanceForm,
    CancelMeetingForm,
    DecisionForm,
    PlanLine,
    ReopenForm,
    decision_initial,
    plan_lines,
    proposal_initial,
)
from meetings.models import AgendaItem, Attendance, Decision, DecisionRecord, Meeting, MeetingSeries
from meetings.quorum import ROLE_LABELS, Quorum, meeting_quorum
from scoring.registry import REGISTRY
from scoring.selectors import case_recommendation, case_scores

# Agenda items shown in live mode: those still to discuss and those decided at this meeting.
LIVE_STATES: Final = (AgendaItem.State.PLANNED, AgendaItem.State.PRESENTED)
MODALITY_LABELS: Final[dict[str | None, str]] = {
    "cebrt": "conventional external beam radiotherapy (cEBRT)",
    "srs": "stereotactic radiosurgery (SRS)",
    "open": "open: the board chooses (see the open decisions)",
    None: "not proposed: required data are missing",
}
AGENDA_ACTIONS: Final = ("up", "down", "defer", "remove")
DECISION_ACTIONS: Final = ("save", "finalise")


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _error_detail(error: ValidationError) -> dict[str, Any]:
    return error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}


def _posted_int(request: HttpRequest, name: str) -> int | None:
    try:
        return int(request.POST[name])
    except (KeyError, ValueError):
        return None


def _meeting_and_membership(request: HttpRequest, meeting_id: int) -> tuple[Meeting, Membership | None]:
    user = _user(request)
    meeting = selectors.meeting_get_for_user(user=user, meeting_id=meeting_id)
    return meeting, selectors.membership_on(user=user, board_id=meeting.board_id)


def _board_members(meeting: Meeting) -> list[Membership]:
    return list(
        Membership.objects.active()
        .filter(board_id=meeting.board_id)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def _agenda(meeting: Meeting) -> QuerySet[AgendaItem]:
    # Not selectors.agenda_for_meeting: on a meeting from meeting_get_for_user it chains
    # select_related onto the prefetched `only()` queryset, which Django refuses (FieldError).
    return AgendaItem.objects.filter(meeting_id=meeting.pk).select_related("case__patient").order_by("order", "id")


def _live_items(meeting: Meeting) -> list[AgendaItem]:
    return list(_agenda(meeting).filter(state__in=LIVE_STATES))


# --- the meeting list


@dataclass(frozen=True, slots=True)
class MeetingRow:
    meeting: Meeting
    cases: int
    used_minutes: int


@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    """Meetings of the user's boards from today on, with their calendar files."""
    user = _user(request)
    today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    meetings = selectors.meeting_list_for_user(user=user).select_related("board", "series").filter(starts_at__gte=today)
    rows = []
    for meeting in meetings:
        planned = [i for i in meeting.agenda_items.all() if i.state == AgendaItem.State.PLANNED]
        rows.append(MeetingRow(meeting, len(planned), sum(i.allotted_minutes for i in planned)))
    series = {row.meeting.series_id: row.meeting.series for row in rows if row.meeting.series is not None}
    context = {
        "rows": rows,
        "series": list(series.values()),
        "subscription": selectors.calendar_subscription_of(user=user),
    }
    return render(request, "meetings/meeting_list.html", context)


# --- the meeting page: agenda, attendance, quorum


@dataclass(slots=True)
class AgendaRow:
    item: AgendaItem
    decision: Decision | None
    live_position: int | None
    is_first: bool = False
    is_last: bool = False
    reason_form: AgendaReasonForm = field(default_factory=AgendaReasonForm)


def _render_meeting(
    request: HttpRequest,
    meeting: Meeting,
    membership: Membership | None,
    *,
    attendance_form: AttendanceForm | None = None,
    failed_item: tuple[int, AgendaReasonForm] | None = None,
    cancel_form: CancelMeetingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    agenda = list(_agenda(meeting))
    decisions = {d.case_id: d for d in meeting.decisions.all()}
    live = [item.pk for item in agenda if item.state in LIVE_STATES]
    planned = [item.pk for item in agenda if item.state == AgendaItem.State.PLANNED]
    rows = []
    for item in agenda:
        row = AgendaRow(
            item=item,
            decision=decisions.get(item.case_id),
            live_position=live.index(item.pk) + 1 if item.pk in live else None,
            is_first=bool(planned) and item.pk == planned[0],
            is_last=bool(planned) and item.pk == planned[-1],
        )
        if failed_item is not None and failed_item[0] == item.pk:
            row.reason_form = failed_item[1]
        rows.append(row)
    attendance: list[Attendance] = list(meeting.attendance.select_related("user").order_by("role", "user__last_name"))
    can_run = selectors.can_run_meetings(membership)
    if can_run and attendance_form is None:
        attendance_form = AttendanceForm(members=_board_members(meeting), attendance=attendance)
    context = {
        "meeting": meeting,
        "rows": rows,
        "used_minutes": sum(row.item.allotted_minutes for row in rows if row.item.state == AgendaItem.State.PLANNED),
        "present": [(a.user.display_name, ROLE_LABELS.get(a.role, a.role)) for a in attendance if a.present],
        "quorum": _quorum_view(meeting_quorum(meeting)),
        "can_run": can_run,
        "is_chair": selectors.is_chair(membership),
        "attendance_form": attendance_form if can_run else None,
        "editable": meeting.status in scheduling.EDITABLE_MEETING_STATUSES,
        "has_live": bool(live),
        "cancel_form": (cancel_form or CancelMeetingForm(initial={"version": meeting.version}))
        if can_run and meeting.is_upcoming()
        else None,
    }
    return render(request, "meetings/meeting_detail.html", context, status=status)


@dataclass(frozen=True, slots=True)
class QuorumView:
    reached: bool
    message: str
    missing: list[str]


def _quorum_view(quorum: Quorum) -> QuorumView:
    return QuorumView(quorum.reached, quorum.message, [ROLE_LABELS[r] for r in quorum.missing_roles])


@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting, membership = _meeting_and_membership(request, meeting_id)
    return _render_meeting(request, meeting, membership)


@require_POST
def attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Record who is present, and in which role; all rows or none (one transaction)."""
    meeting, membership = _meeting_and_membership(request, meeting_id)
    if not selectors.can_run_meetings(membership):
        raise PermissionDenied("Only the board's chair and coordinators record attendance.")
    recorded = list(meeting.attendance.all())
    form = AttendanceForm(request.POST, members=_board_members(meeting), attendance=recorded)
    if not form.is_valid():
        return _render_meeting(request, meeting, membership, attendance_form=form, status=400)
    changes = form.changes()
    try:
        with transaction.atomic():
            for member, role, present in changes:
                services.attendance_record(
                    meeting=meeting, user=member.user, role=role, present=present, by=_user(request)
                )
    except ValidationError as error:
        for messages_ in _error_detail(error).values():
            for text in messages_:
                form.add_error(None, text)
        return _render_meeting(request, meeting, membership, attendance_form=form, status=400)
    messages.success(request, f"Attendance recorded ({len(changes)} change{'' if len(changes) == 1 else 's'}).")
    return redirect("meetings:detail", meeting_id=meeting.pk)


@require_POST
def meeting_cancel(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """A coordinator or chair cancels a planned meeting, with a reason; its cases go back to the queue."""
    meeting, membership = _meeting_and_membership(request, meeting_id)
    if not selectors.can_run_meetings(membership):
        raise PermissionDenied("Only the board's chair and coordinators cancel meetings.")
    form = CancelMeetingForm(request.POST)
    if not form.is_valid():
        return _render_meeting(request, meeting, membership, cancel_form=form, status=400)
    try:
        deferred = scheduling.meeting_cancel(
            meeting=meeting, by=_user(request), reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )  # fmt: skip
    except StaleVersion:
        form.add_error(None, "The meeting changed since you opened this page. Nothing was cancelled; reload to see it.")
        return _render_meeting(request, meeting, membership, cancel_form=form, status=409)
    except ValidationError as error:
        for messages_ in _error_detail(error).values():
            for text in messages_:
                form.add_error(None, text)
        return _render_meeting(request, meeting, membership, cancel_form=form, status=400)
    messages.success(
        request, f"Meeting cancelled; {len(deferred)} case{'' if len(deferred) == 1 else 's'} went back to the queue."
    )
    return redirect("meetings:detail", meeting_id=meeting.pk)


@require_POST
def agenda_item(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    """A coordinator's agenda adjustment: move up or down, defer or remove (with a reason)."""
    meeting, membership = _meeting_and_membership(request, meeting_id)
    if not selectors.can_run_meetings(membership):
        raise PermissionDenied("Only the board's chair and coordinators change the agenda.")
    item = meeting.agenda_items.filter(pk=item_id).first()
    if item is None:
        raise Http404("No such item on this meeting's agenda.")
    action = request.POST.get("action", "")
    if action not in AGENDA_ACTIONS:
        return HttpResponseBadRequest(f"Unknown agenda action {action!r}.")
    form = AgendaReasonForm(request.POST)
    if not form.is_valid():
        return _render_meeting(request, meeting, membership, failed_item=(item.pk, form), status=400)
    user, reason = _user(request), form.cleaned_data["reason"]
    try:
        if action in ("up", "down"):
            scheduling.agenda_move(item=item, order=item.order + (-1 if action == "up" else 1), by=user)
            done = f"{item.case.patient.name} moved {action}."
        elif action == "defer":
            scheduling.agenda_defer(item=item, by=user, reason=reason)
            done = f"{item.case.patient.name} deferred; the case goes back to the queue, ahead of its urgency."
        else:
            scheduling.agenda_remove(item=item, by=user, reason=reason)
            done = f"{item.case.patient.name} removed from the agenda; the case goes back to the queue."
    except ValidationError as error:
        for messages_ in _error_detail(error).values():
            for text in messages_:
                form.add_error(None, text)
        return _render_meeting(request, meeting, membership, failed_item=(item.pk, form), status=400)
    messages.success(request, done)
    return redirect("meetings:detail", meeting_id=meeting.pk)


# --- live meeting mode


@dataclass(frozen=True, slots=True)
class SectionSummary:
    title: str
    discipline: str
    submitted: bool
    signer: str
    at: datetime | None
    values: list[Value]
    rows: list[tuple[str, list[str]]]


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    title: str
    level: str | None
    current: bool
    complete: bool
    score: Any
    category: str | None
    missing: str
    provisional: bool
    lesions: list[ScoreSummary]


def _sections(case: Case) -> list[SectionSummary]:
    out = []
    for discipline in Discipline:
        section = section_of(case, discipline.value)
        submitted = section.state == SectionState.SUBMITTED
        person = section.submitted_by if submitted else section.updated_by
        out.append(
            SectionSummary(
                title=discipline.label,
                discipline=discipline.value,
                submitted=submitted,
                signer=person.display_name if person else "",
                at=section.submitted_at if submitted else section.updated_at,
                values=section_values(section, KEY_FIELDS[discipline.value]),
                rows=section_rows(section, case),
            )
        )
    return out


def _score(entry: Mapping[str, Any]) -> ScoreSummary:
    return ScoreSummary(
        title=REGISTRY[entry["system"]].title,
        level=entry["level"],
        current=entry["current"],
        complete=entry["status"] == "complete",
        score=entry["score"],
        category=entry["category_label"],
        missing=", ".join(entry["missing_labels"]),
        provisional=entry["provisional"],
        lesions=[_score(lesion) for lesion in entry.get("lesions", [])],
    )


def _proposal(recommendation: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored proposal with the labels the page shows beside its codes."""
    if recommendation is None:
        return None
    radiation = recommendation["radiation"]
    return {
        **recommendation,
        "radiation": {**radiation, "label": MODALITY_LABELS.get(radiation.get("modality"), radiation.get("modality"))},
        "surgery": [
            {**item, "procedure_label": item["procedure"].replace("_", " ")} for item in recommendation["surgery"]
        ],
    }


def _decision_form(
    case: Case,
    decision: Decision | None,
    recommendation: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None = None,
) -> DecisionForm:
    """The decision form: a stored draft's values, else a first draft from the proposal."""
    initial, surgery = decision_initial(decision) if decision is not None else proposal_initial(recommendation)
    levels = [lesion.level for lesion in case.radiology.lesions.all()]
    return DecisionForm(data, levels=levels, initial=initial, surgery=surgery)


@dataclass(frozen=True, slots=True)
class LiveScreen:
    """Everything live mode shows for one agenda item."""

    meeting: Meeting
    item: AgendaItem
    position: int
    count: int
    case: Case
    decision: Decision | None
    is_chair: bool


def _live_screen(request: HttpRequest, meeting_id: int, position: int) -> LiveScreen:
    meeting, membership = _meeting_and_membership(request, meeting_id)
    items = _live_items(meeting)
    if not 1 <= position <= len(items):
        raise Http404("No case at this position of the agenda.")
    item = items[position - 1]
    case = case_get_for_user(user=_user(request), case_id=item.case_id)
    decision = meeting.decisions.filter(case=case).select_related("finalised_by").prefetch_related("records").first()
    return LiveScreen(meeting, item, position, len(items), case, decision, selectors.is_chair(membership))


def _render_live(
    request: HttpRequest, screen: LiveScreen, *, form: DecisionForm | None = None, status: int = 200
) -> HttpResponse:
    case, decision = screen.case, screen.decision
    recommendation = case_recommendation(case=case)
    finalised = decision is not None and decision.state == Decision.State.FINALISED
    if form is None and screen.is_chair and not finalised:
        form = _decision_form(case, decision, recommendation)
    emergency = emergency_state(case=case) if case.urgency == Urgency.EMERGENCY or case.emergency_since else None
    context = {
        "meeting": screen.meeting,
        "item": screen.item,
        "position": screen.position,
        "count": screen.count,
        "previous": screen.position - 1 if screen.position > 1 else None,
        "next": screen.position + 1 if screen.position < screen.count else None,
        "case": case,
        "sections": _sections(case),
        "scores": [_score(entry) for entry in case_scores(case=case)],
        "proposal": _proposal(recommendation),
        "emergency": emergency,
        "quorum": _quorum_view(meeting_quorum(screen.meeting)),
        "decision": decision,
        "finalised": finalised,
        "plan": plan_lines(decision.plan) if decision is not None else [],
        "records": _records(decision),
        "form": form,
        "signature_meaning": SIGNATURE_MEANING,
        "allotted_seconds": screen.item.allotted_minutes * 60,
    }
    return render(request, "meetings/live.html", context, status=status)


def _records(decision: Decision | None) -> list[DecisionRecord]:
    return sorted(decision.records.all(), key=lambda r: r.version) if decision is not None else []


@require_GET
def live_start(request: HttpRequest, meeting_id: int) -> HttpResponse:
    selectors.meeting_get_for_user(user=_user(request), meeting_id=meeting_id)
    return redirect("meetings:live", meeting_id=meeting_id, position=1)


@require_http_methods(["GET", "POST"])
def live(request: HttpRequest, meeting_id: int, position: int) -> HttpResponse:
    """One agenda case: GET shows it; POST (the chair) saves the decision draft or finalises it."""
    screen = _live_screen(request, meeting_id, position)
    if request.method == "GET":
        return _render_live(request, screen)
    if not screen.is_chair:
        raise PermissionDenied("Only the board's chair records decisions.")
    action = request.POST.get("action", "")
    if action not in DECISION_ACTIONS:
        return HttpResponseBadRequest(f"Unknown action {action!r}.")
    if screen.decision is not None and screen.decision.state == Decision.State.FINALISED:
        messages.error(request, "This decision is finalised. Reopen it, with a reason, to amend it.")
        return redirect("meetings:live", meeting_id=meeting_id, position=position)
    recommendation = case_recommendation(case=screen.case)
    form = _decision_form(screen.case, screen.decision, recommendation, data=request.POST)
    return _decision_post(request, screen, form, finalise=action == "finalise")


def _decision_post(request: HttpRequest, screen: LiveScreen, form: DecisionForm, *, finalise: bool) -> HttpResponse:
    """Save the draft, and finalise it when asked, in one transaction: a refused signature leaves
    nothing half done, and the form keeps what the chair typed."""
    quorum = meeting_quorum(screen.meeting)
    if not quorum.reached:
        form.add_error(None, quorum.message)
        return _render_live(request, screen, form=form, status=400)
    fields = form.validated_fields(screen.case.pk)
    if fields is None:
        return _render_live(request, screen, form=form, status=400)
    password = form.cleaned_data["password"]
    if finalise and not password:
        form.add_error("password", "Enter your password to sign and finalise the decision.")
        return _render_live(request, screen, form=form, status=400)
    user = _user(request)
    if finalise:
        # Checked as a login is, so wrong passwords count toward the lockout (accounts.reauth).
        # Locked out, django-axes answers this request with its lockout page (429).
        try:
            signed_by_self = password_confirmed(request, user=user, password=password)
        except LockedOut as locked:
            form.add_error("password", str(locked))
            return _render_live(request, screen, form=form, status=429)
        if not signed_by_self:
            form.add_error("password", SIGNATURE_PASSWORD_MISMATCH)
            form.add_error(None, "The decision was not finalised and nothing was saved.")
            return _render_live(request, screen, form=form, status=400)
    try:
        with transaction.atomic():
            decision = services.decision_save(
                case=screen.case, meeting=screen.meeting, by=user, fields=fields,
                expected_version=_posted_int(request, "version"),
            )  # fmt: skip
            if finalise:
                record = services.decision_finalise(
                    decision=decision,
                    by=user,
                    password=password,
                    expected_version=decision.version,
                    otp=form.cleaned_data["otp"],
                )
    except ValidationError as error:
        form.add_errors(_error_detail(error))
        if finalise:
            form.add_error(None, "The decision was not finalised and nothing was saved.")
        return _render_live(request, screen, form=form, status=400)
    except StaleVersion:
        form.add_error(None, "The decision changed since you opened this page. Nothing was saved; reload to see it.")
        return _render_live(request, screen, form=form, status=409)
    except (Conflict, InvalidTransition) as error:
        form.add_error(None, str(getattr(error, "detail", error)))
        return _render_live(request, screen, form=form, status=409)
    if finalise:
        messages.success(
            request,
            f"Decision finalised and signed; the case is now discussed. Decision record version {record.version} created.",
        )
    else:
        messages.success(request, "Decision draft saved.")
    return redirect("meetings:live", meeting_id=screen.meeting.pk, position=screen.position)


# --- the decision page


def _decision_for_page(request: HttpRequest, decision_id: int) -> tuple[Decision, bool]:
    """The decision and whether the user chairs its board; a never-finalised draft is the chair's
    working copy and stays invisible to others (as in the API)."""
    user = _user(request)
    decision = selectors.decision_get_for_user(user=user, decision_id=decision_id)
    chair = selectors.is_chair(selectors.membership_on(user=user, board_id=decision.case.board_id))
    return decision, chair


@dataclass(frozen=True, slots=True)
class SignedContent:
    plan: list[PlanLine]
    rationale: str
    follows_recommendation: bool | None
    deviation_reason: str
    follow_up_date: str | None
    record: DecisionRecord


def _signed(records: Sequence[DecisionRecord]) -> SignedContent | None:
    """What the latest record version signed (an amendment in progress is not shown as signed)."""
    if not records:
        return None
    latest = records[-1]
    signed = latest.snapshot["decision"]
    return SignedContent(
        plan=plan_lines(signed["plan"]),
        rationale=signed["rationale"],
        follows_recommendation=signed["follows_recommendation"],
        deviation_reason=signed["deviation_reason"],
        follow_up_date=signed["follow_up_date"],
        record=latest,
    )


def _render_decision(
    request: HttpRequest, decision: Decision, chair: bool, *, reopen_form: ReopenForm | None = None, status: int = 200
) -> HttpResponse:
    records = list(decision.records.select_related("signer").order_by("version"))
    live_position = None
    if decision.meeting is not None:
        live = [item.case_id for item in _live_items(decision.meeting)]
        live_position = live.index(decision.case_id) + 1 if decision.case_id in live else None
    context = {
        "decision": decision,
        "case": decision.case,
        "patient": decision.case.patient,
        "signed": _signed(records),
        "draft": plan_lines(decision.plan) if decision.state != Decision.State.FINALISED else [],
        "records": records,
        "is_chair": chair,
        "reopen_form": reopen_form or (ReopenForm() if chair and decision.state == Decision.State.FINALISED else None),
        "live_position": live_position,
    }
    return render(request, "meetings/decision_detail.html", context, status=status)


@require_GET
def decision_detail(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision, chair = _decision_for_page(request, decision_id)
    return _render_decision(request, decision, chair)


@require_POST
def decision_reopen(request: HttpRequest, decision_id: int) -> HttpResponse:
    """The chair reopens a finalised decision for amendment, with a reason."""
    decision, chair = _decision_for_page(request, decision_id)
    if not chair:
        raise PermissionDenied("Only the board's chair amends decisions.")
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return _render_decision(request, decision, chair, reopen_form=form, status=400)
    expected = _posted_int(request, "version")  # the revision the page showed
    try:
        if expected is not None and expected != decision.revision:
            raise StaleVersion(expected=expected, current=decision.revision)
        services.decision_reopen(
            decision=decision, by=_user(request), reason=form.cleaned_data["reason"], expected_version=decision.version
        )
    except ValidationError as error:
        for messages_ in _error_detail(error).values():
            for text in messages_:
                form.add_error(None, text)
        return _render_decision(request, decision, chair, reopen_form=form, status=400)
    except (StaleVersion, Conflict) as error:
        form.add_error(None, str(getattr(error, "detail", error)))
        return _render_decision(request, decision, chair, reopen_form=form, status=409)
    messages.success(request, "Decision reopened for amendment: record the amended plan and finalise it again.")
    return redirect("meetings:decision", decision_id=decision.pk)


# --- calendars


def _ics(text: str, filename: str) -> HttpResponse:
    # Filenames are built from ids and usernames (ASCII): no RFC 6266 encoding is needed.
    return HttpResponse(
        text,
        content_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@require_GET
def meeting_ics(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.meeting_get_for_user(user=_user(request), meeting_id=meeting_id)
    return _ics(calendar.meeting_ics(meeting), f"meeting-{meeting.pk}.ics")


@require_GET
def series_ics(request: HttpRequest, series_id: int) -> HttpResponse:
    series = (
        MeetingSeries.objects.filter(pk=series_id, board__in=Board.objects.for_user(_user(request)))
        .select_related("board")
        .first()
    )
    if series is None:
        raise Http404("No meeting series with this id on your boards.")
    return _ics(calendar.series_ics(series), f"series-{series.pk}.ics")


@login_not_required
@require_GET
def person_feed(request: HttpRequest, key: str) -> HttpResponse:
    """A person's feed of meetings at their secret address: calendar apps subscribe without a login.
    The feed holds no patient data; an unknown, replaced or ended address is a 404."""
    user = selectors.calendar_subscriber(key=key)
    if user is None:
        raise Http404("No calendar at this address: it may have been replaced or turned off.")
    response = _ics(calendar.person_calendar_ics(user), "tumourboard.ics")
    response["Cache-Control"] = "private, no-store"  # the address is the credential: no shared caches
    return response


@require_POST
def calendar_subscription(request: HttpRequest) -> HttpResponse:
    """Make a new secret feed address (shown once, on the page this answers with) or turn it off."""
    user = _user(request)
    action = request.POST.get("action")
    if action == "end":
        services.calendar_subscription_end(user=user)
        messages.success(request, "Your calendar subscription address is turned off.")
        return redirect("meetings:list")
    if action != "renew":
        return HttpResponseBadRequest("Unknown action: use renew or end.")
    key = services.calendar_subscription_renew(user=user)
    url = request.build_absolute_uri(reverse("meetings:person-feed", args=[key]))
    response = render(request, "meetings/calendar_subscription.html", {"url": url})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def person_ics(request: HttpRequest, username: str) -> HttpResponse:
    """The logged-in person's own feed of meetings; nobody reads another person's."""
    user = _user(request)
    if username != user.username:
        raise Http404("Only your own calendar is available.")
    return _ics(calendar.person_calendar_ics(user), f"{user.username}.ics")
