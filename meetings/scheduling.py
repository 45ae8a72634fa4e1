"""Agendas: the scheduler that places ready cases on meetings, and the coordinator's manual edits.

Rules (issue 6):
- `ready` cases go to the earliest planned, future meeting of their board with room, urgent before
  routine, a case whose latest agenda item was deferred before others of its urgency, then by
  referral date. Room is capacity_minutes minus the allotted minutes of the planned items; each
  placed case takes the meeting's minutes_per_case, so a meeting is never filled past capacity.
- Ad hoc meetings take urgent (and, by hand, emergency) cases only; routine cases never.
- Emergencies are not parked in a future meeting: the scheduler leaves them and reports them.
- The scheduler only adds items: it never moves or removes any, so manual placements stay where
  the coordinator put them and their minutes count against capacity. Re-running it places only
  what is still unplaced, and a case holds at most one planned item (database constraint).

Every write takes the board's row lock first, so a scheduler run and a coordinator's edit on the
same board are serialised; the other rows are then locked as board, meeting, case, agenda items.
The planned items of a meeting are numbered 1..n without gaps; an item that leaves the agenda
(deferred, withdrawn) keeps its last number as a record of where it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, IntegerField, Max, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Board, User
from cases import lifecycle
from cases.models import Case
from cases.services import case_transition
from cases.vocabulary import CaseStatus, Urgency
from common.errors import StaleVersion
from common.history import record_snapshots
from meetings.models import AgendaItem, Decision, Meeting

# Emergencies have no rank: they are never placed by the scheduler.
URGENCY_RANK: dict[str, int] = {Urgency.URGENT: 0, Urgency.ROUTINE: 1}
# Meetings whose agenda a coordinator may still rearrange (deferral happens during the meeting).
EDITABLE_MEETING_STATUSES = frozenset({Meeting.Status.PLANNED, Meeting.Status.IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class Placement:
    case_id: int
    meeting_id: int
    order: int


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """What a scheduler run did, and what it left for people to handle."""

    placed: tuple[Placement, ...]
    # Ready emergency cases: flagged for immediate handling, never parked in a future meeting.
    emergencies: tuple[int, ...]
    # Ready cases for which no meeting of their board had room: a meeting must be added.
    unplaced: tuple[int, ...]
    # Ready cases that still hold a planned agenda item (they went back to work-up while on an
    # agenda and came back): left where they are rather than placed twice.
    already_planned: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (the Celery task's result)."""
        return {
            "placed": len(self.placed),
            "emergencies": list(self.emergencies),
            "unplaced": list(self.unplaced),
            "already_planned": list(self.already_planned),
        }


@dataclass(slots=True)
class _Slot:
    """A candidate meeting while a run fills it."""

    meeting: Meeting
    room: int
    next_order: int
    label: str = field(init=False)

    def __post_init__(self) -> None:
        self.label = meeting_label(self.meeting)

    @property
    def is_full(self) -> bool:
        return self.room < self.meeting.minutes_per_case


def meeting_label(meeting: Meeting) -> str:
    """'Spine MDT, 2027-03-30 15:00 Europe/Ljubljana': how history reasons and messages name a meeting."""
    local = meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone))
    return f"{meeting.title}, {local:%Y-%m-%d %H:%M} {meeting.time_zone}"


def _lock_boards(board_ids: Iterable[int] | None) -> list[int]:
    """Lock the boards' rows (all boards when None), in primary-key order so runs never deadlock."""
    boards = Board.objects.select_for_update().order_by("pk")
    if board_ids is not None:
        boards = boards.filter(pk__in=list(board_ids))
    return list(boards.values_list("pk", flat=True))


def _planned_minutes() -> Coalesce:
    planned = (
        AgendaItem.objects.filter(meeting=OuterRef("pk"), state=AgendaItem.State.PLANNED).order_by().values("meeting")
    )
    # Subqueries rather than a join and GROUP BY: PostgreSQL refuses FOR UPDATE with aggregates.
    return Coalesce(
        Subquery(planned.annotate(total=Sum("allotted_minutes")).values("total")), Value(0), output_field=IntegerField()
    )


def _last_order() -> Coalesce:
    planned = (
        AgendaItem.objects.filter(meeting=OuterRef("pk"), state=AgendaItem.State.PLANNED).order_by().values("meeting")
    )
    return Coalesce(Subquery(planned.annotate(last=Max("order")).values("last")), Value(0), output_field=IntegerField())


def _priority(case: Case) -> tuple[int, int, date, int]:
    deferred_first = 0 if case.latest_agenda_state == AgendaItem.State.DEFERRED else 1  # type: ignore[attr-defined]
    return (URGENCY_RANK[case.urgency], deferred_first, case.referral_date, case.pk)


def _plan(cases: Sequence[Case], slots: Sequence[_Slot]) -> tuple[list[tuple[Case, _Slot, int]], list[int]]:
    """Greedy placement in priority order; returns (case, slot, order) triples and unplaced case ids.

    A meeting that is full stays full for the rest of the run and an ad hoc meeting stays ad hoc,
    so one cursor per (board, routine or not) only ever moves forward: linear in cases + meetings.
    """
    by_board: dict[int, list[_Slot]] = defaultdict(list)
    for slot in slots:
        by_board[slot.meeting.board_id].append(slot)
    cursors: dict[tuple[int, bool], int] = {}
    placements: list[tuple[Case, _Slot, int]] = []
    unplaced: list[int] = []
    for case in sorted(cases, key=_priority):
        routine = case.urgency == Urgency.ROUTINE
        board_slots = by_board.get(case.board_id, [])
        i = cursors.get((case.board_id, routine), 0)
        while i < len(board_slots) and (board_slots[i].is_full or (routine and board_slots[i].meeting.is_ad_hoc)):
            i += 1
        cursors[(case.board_id, routine)] = i
        if i == len(board_slots):
            unplaced.append(case.pk)
            continue
        slot = board_slots[i]
        placements.append((case, slot, slot.next_order))
        slot.room -= slot.meeting.minutes_per_case
        slot.next_order += 1
    return placements, unplaced


@transaction.atomic
def agenda_schedule(*, board: Board | None = None, by: User | None = None) -> ScheduleResult:
    """Place every `ready` case of the board (of all boards when None) on the earliest planned,
    future meeting of its board with room, under the rules in this module's docstring.

    Side effects, all in one transaction: locks the boards, their candidate meetings and their
    ready cases; creates the agenda items and moves the placed cases ready -> scheduled (version
    bumped), both with history rows (user `by`, None for a beat run; the case's reason names the
    meeting). The number of SQL statements does not depend on the number of cases or meetings
    (bulk writes; SQLite alone splits them in batches of its parameter limit). Idempotent.
    Enqueues nothing.
    """
    now = timezone.now()
    board_ids = _lock_boards(None if board is None else [board.pk])
    slots = [
        _Slot(meeting=m, room=m.capacity_minutes - m.used_minutes, next_order=m.last_order + 1)  # type: ignore[attr-defined]
        for m in Meeting.objects.select_for_update()
        .filter(board_id__in=board_ids, status=Meeting.Status.PLANNED, starts_at__gt=now)
        .annotate(used_minutes=_planned_minutes(), last_order=_last_order())
        .order_by("starts_at", "pk")
    ]
    cases = list(
        Case.objects.select_for_update()
        .filter(board_id__in=board_ids, status=CaseStatus.READY)
        # What placement reads; history is copied from the rows by the database (_write_placements).
        .only("board", "status", "urgency", "referral_date")
        .annotate(
            latest_agenda_state=Subquery(
                AgendaItem.objects.filter(case=OuterRef("pk")).order_by("-placed_at", "-pk").values("state")[:1]
            ),
            on_agenda=Exists(AgendaItem.objects.filter(case=OuterRef("pk"), state=AgendaItem.State.PLANNED)),
        )
    )
    emergencies = sorted(c.pk for c in cases if c.urgency == Urgency.EMERGENCY)
    already_planned = sorted(c.pk for c in cases if c.on_agenda)  # type: ignore[attr-defined]
    candidates = [c for c in cases if c.urgency != Urgency.EMERGENCY and not c.on_agenda]  # type: ignore[attr-defined]
    placements, unplaced = _plan(candidates, slots)
    if placements:
        _write_placements(placements, by=by, now=now)
    return ScheduleResult(
        placed=tuple(Placement(case.pk, slot.meeting.pk, order) for case, slot, order in placements),
        emergencies=tuple(emergencies),
        unplaced=tuple(sorted(unplaced)),
        already_planned=tuple(already_planned),
    )


def _write_placements(placements: Sequence[tuple[Case, _Slot, int]], *, by: User | None, now: datetime) -> None:
    items = [
        AgendaItem(
            meeting=slot.meeting,
            case=case,
            order=order,
            allotted_minutes=slot.meeting.minutes_per_case,
            state=AgendaItem.State.PLANNED,
            is_manual=False,
            placed_at=now,
        )
        for case, slot, order in placements
    ]
    # No per-item full_clean: its foreign-key and constraint checks cost queries per item, and
    # every value comes from rows locked above; the database constraints still hold the line.
    AgendaItem.objects.bulk_create(items)
    for case, _slot, _order in placements:
        lifecycle.check_transition(case.status, CaseStatus.SCHEDULED)
    # One set-based UPDATE: every placed case gets the same status and a version bump (the rows
    # are locked). bulk_update would build a CASE branch per case and field (slow in Python,
    # quadratic in the database).
    Case.objects.filter(pk__in=[case.pk for case, _slot, _order in placements]).update(
        status=CaseStatus.SCHEDULED, version=F("version") + 1, updated_at=now
    )
    # History of both, copied by the database from the rows just written: the same rows
    # simple-history's bulk helpers write, without building 2 model instances per case in Python.
    record_snapshots(
        AgendaItem,
        dict.fromkeys((item.pk for item in items), "placed by the scheduler"),
        by=by,
        at=now,
        history_type="+",
    )
    record_snapshots(
        Case,
        {case.pk: f"placed on {slot.label} by the scheduler" for case, slot, _order in placements},
        by=by,
        at=now,
        history_type="~",
    )


# --- Manual agenda edits (coordinators) -----------------------------------------------------------


def _audit(obj: Case | AgendaItem | Meeting, by: User | None, reason: str) -> None:
    obj._history_user = by  # type: ignore[union-attr]  # read by simple-history, also outside a request
    obj._change_reason = reason  # type: ignore[union-attr]


def _planned_items(meeting_id: int) -> list[AgendaItem]:
    return list(
        AgendaItem.objects.select_for_update()
        .filter(meeting_id=meeting_id, state=AgendaItem.State.PLANNED)
        .order_by("order", "pk")
    )


def _renumber(items: Sequence[AgendaItem], *, by: User | None, reason: str) -> None:
    """Give the items the numbers 1..n in list order, saving only those whose number changes."""
    for position, item in enumerate(items, start=1):
        if item.order != position:
            item.order = position
            _audit(item, by, reason)
            item.save(update_fields=["order"])


def _locked_item(item: AgendaItem) -> AgendaItem:
    """The item re-read under its board's lock, its meeting open for editing, itself planned."""
    board_id = Meeting.objects.filter(pk=item.meeting_id).values_list("board_id", flat=True).get()
    _lock_boards([board_id])
    item = AgendaItem.objects.select_for_update().select_related("meeting").get(pk=item.pk)
    if item.meeting.status not in EDITABLE_MEETING_STATUSES:
        raise ValidationError({"meeting": f"The meeting is {item.meeting.status}: its agenda can no longer change."})
    if item.state != AgendaItem.State.PLANNED:
        raise ValidationError({"item": f"The agenda item is {item.state}, not planned."})
    return item


@transaction.atomic
def agenda_place(*, case: Case, meeting: Meeting, by: User, order: int | None = None) -> AgendaItem:
    """Put a ready case on a meeting's agenda by hand, at position `order` (1..n+1; None: last).

    Preconditions, each refused with a ValidationError that says why: the case and the meeting
    are on the same board; the meeting is planned and in the future; the case is not already on
    an agenda and is `ready`; a routine case does not go on an ad hoc meeting; the meeting has
    room for its minutes_per_case. Coordinators may place emergencies (their call, unlike the
    scheduler's). Side effects: a manual item (never moved by the scheduler), later items
    renumbered, the case ready -> scheduled; history with `by` for all.
    """
    _lock_boards([meeting.board_id])
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.board_id != meeting.board_id:
        raise ValidationError({"case": "The case belongs to another board than the meeting."})
    if not meeting.is_upcoming():
        raise ValidationError({"meeting": "Cases can only be placed on planned meetings that have not started."})
    elsewhere = AgendaItem.objects.filter(case=case, state=AgendaItem.State.PLANNED).select_related("meeting").first()
    if elsewhere is not None:
        raise ValidationError(
            {
                "case": f"The case is already on the agenda of {meeting_label(elsewhere.meeting)}: move or remove it there."
            }
        )
    if case.status != CaseStatus.READY:
        raise ValidationError({"case": f"The case is {case.status}; only ready cases can be placed on an agenda."})
    if meeting.is_ad_hoc and case.urgency == Urgency.ROUTINE:
        raise ValidationError({"meeting": "Ad hoc meetings are for urgent and emergency cases; this case is routine."})
    items = _planned_items(meeting.pk)
    used = sum(i.allotted_minutes for i in items)
    if used + meeting.minutes_per_case > meeting.capacity_minutes:
        raise ValidationError(
            {
                "meeting": (
                    f"The meeting is full: {used} of {meeting.capacity_minutes} minutes are planned and a case "
                    f"needs {meeting.minutes_per_case}."
                )
            }
        )
    position = len(items) + 1 if order is None else order
    if not 1 <= position <= len(items) + 1:
        raise ValidationError({"order": f"The position must be between 1 and {len(items) + 1}."})
    label = meeting_label(meeting)
    item = AgendaItem(
        meeting=meeting,
        case=case,
        order=position,
        allotted_minutes=meeting.minutes_per_case,
        state=AgendaItem.State.PLANNED,
        is_manual=True,
        placed_at=timezone.now(),
    )
    item.full_clean()
    _audit(item, by, f"placed by hand on {label} at #{position}")
    item.save()
    _renumber([*items[: position - 1], item, *items[position - 1 :]], by=by, reason=f"renumbered on {label}")
    _set_case_status(case, CaseStatus.SCHEDULED, by=by, reason=f"placed by hand on {label}")
    return item


def _set_case_status(case: Case, target: str, *, by: User | None, reason: str) -> None:
    # The life cycle service checks the transition and records the reason; the acting user is
    # set here because a task has no request for simple-history's middleware to read it from.
    case._history_user = by  # type: ignore[attr-defined]
    case_transition(case=case, target=target, reason=reason)


@transaction.atomic
def agenda_move(*, item: AgendaItem, order: int, by: User) -> AgendaItem:
    """Move a planned item to position `order` (1..n) of its meeting; the others close up.

    Refused (ValidationError) when the item is not planned, its meeting is closed or cancelled, or
    the position is out of range. Saves the renumbered items with history (`by`).
    """
    item = _locked_item(item)
    items = [i for i in _planned_items(item.meeting_id) if i.pk != item.pk]
    if not 1 <= order <= len(items) + 1:
        raise ValidationError({"order": f"The position must be between 1 and {len(items) + 1}."})
    label = meeting_label(item.meeting)
    if item.order != order:
        item.order = order
        _audit(item, by, f"moved to #{order} on {label}")
        item.save(update_fields=["order"])
    # The moved item already carries its new number, so only the others are saved here.
    _renumber([*items[: order - 1], item, *items[order - 1 :]], by=by, reason=f"renumbered on {label}")
    return item


def _take_off_agenda(item: AgendaItem, *, state: str, by: User | None, reason: str, action: str) -> AgendaItem:
    if not reason.strip():
        raise ValidationError({"reason": f"Say why the case is {action}."})
    item = _locked_item(item)
    case = Case.objects.select_for_update().get(pk=item.case_id)
    label = meeting_label(item.meeting)
    item.state = state
    if state == AgendaItem.State.DEFERRED:
        item.deferred_reason = reason
    _audit(item, by, f"{action} from {label}: {reason}")
    item.save(update_fields=["state", "deferred_reason"])
    _renumber(_planned_items(item.meeting_id), by=by, reason=f"renumbered on {label}")
    # A case that went back to work-up while on the agenda stays in work-up: only a scheduled
    # case returns to the queue.
    if case.status == CaseStatus.SCHEDULED:
        _set_case_status(case, CaseStatus.READY, by=by, reason=f"{action} from {label}: {reason}")
    return item


@transaction.atomic
def agenda_remove(*, item: AgendaItem, by: User, reason: str) -> AgendaItem:
    """Take a planned item off its meeting's agenda (state withdrawn; the row stays as a record).

    Needs a non-blank reason; refused (ValidationError) when the item is not planned or its meeting
    is closed or cancelled. The later items close up; a scheduled case goes back to `ready` and
    queues by its urgency and referral date. History with `by` and the reason on item and case.
    """
    return _take_off_agenda(item, state=AgendaItem.State.WITHDRAWN, by=by, reason=reason, action="removed")


@transaction.atomic
def agenda_defer(*, item: AgendaItem, by: User, reason: str) -> AgendaItem:
    """Defer a planned item (state deferred, with the reason), e.g. during the meeting.

    As agenda_remove, except that the case goes to the front of its urgency's queue: the next
    scheduler run places it before the other cases of the same urgency.
    """
    return _take_off_agenda(item, state=AgendaItem.State.DEFERRED, by=by, reason=reason, action="deferred")


# --- Closing meetings that have ended -------------------------------------------------------------


def _ended(meeting: Meeting, now: datetime) -> bool:
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes) <= now


def _requeue_agenda(
    meeting: Meeting, *, by: User | None, reason: str, keep_case_ids: Collection[int] = ()
) -> list[AgendaItem]:
    """Defer every planned item of the (locked) meeting with `reason`, but those of `keep_case_ids`,
    sending the cases back to the front of the queue, and enqueue a scheduler run for the board on
    commit."""
    from meetings.tasks import schedule_ready_cases

    deferred = [
        _take_off_agenda(item, state=AgendaItem.State.DEFERRED, by=by, reason=reason, action="deferred")
        for item in _planned_items(meeting.pk)
        if item.case_id not in keep_case_ids
    ]
    if deferred:
        board_id = meeting.board_id
        transaction.on_commit(lambda: schedule_ready_cases.delay(board_id=board_id), robust=True)
    return deferred


@transaction.atomic
def meeting_close(*, meeting: Meeting, by: User | None = None, now: datetime | None = None) -> list[AgendaItem]:
    """Close a meeting that has ended, so that no case is lost on a past agenda (issue 6).

    Every case still planned on its agenda with no decision drafted at this meeting was not
    discussed: its item is deferred with the reason "not discussed at <meeting>", the case goes
    back to `ready` at the front of its urgency's queue (agenda_defer's rule), and a scheduler run
    for the board is enqueued on commit. A case with a decision drafted here was discussed and
    awaits the chair's signature: its item stays planned until decision_finalise marks it
    presented, so the chair can still sign and the case is not put on the next agenda as well.
    The meeting becomes `closed`. Returns the deferred items. Idempotent: a closed or cancelled
    meeting is left as it is. Refused (ValidationError) while the meeting has not ended.
    History names `by` (None: the beat sweep).
    """
    now = now or timezone.now()
    _lock_boards([meeting.board_id])
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status in (Meeting.Status.CLOSED, Meeting.Status.CANCELLED):
        return []
    if not _ended(meeting, now):
        raise ValidationError({"meeting": "The meeting has not ended yet."})
    awaiting_signature = set(
        Decision.objects.filter(meeting=meeting, state=Decision.State.DRAFT).values_list("case_id", flat=True)
    )
    deferred = _requeue_agenda(
        meeting, by=by, reason=f"not discussed at {meeting_label(meeting)}", keep_case_ids=awaiting_signature
    )
    meeting.status = Meeting.Status.CLOSED
    awaiting = f"; {len(awaiting_signature)} case(s) await the chair's signature" if awaiting_signature else ""
    _audit(meeting, by, f"closed; {len(deferred)} case(s) not discussed went back to the queue{awaiting}")
    meeting.save(update_fields=["status", "updated_at"])
    return deferred


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by: User, reason: str, expected_version: int | None = None) -> list[AgendaItem]:
    """Cancel a planned meeting that has not started (a coordinator's or chair's call).

    Needs a reason. The cases on its agenda are deferred ("meeting cancelled: <reason>") and go
    back to the front of their urgency's queue; the meeting becomes `cancelled` with the reason and
    a new version (calendar files then carry STATUS:CANCELLED with a higher SEQUENCE, so
    subscribed calendars drop it), and a scheduler run for the board is enqueued on commit.
    Refused (ValidationError) for a meeting that is not planned or has started; StaleVersion when
    `expected_version` is not the current one. Returns the deferred items.
    """
    if not reason.strip():
        raise ValidationError({"reason": "Say why the meeting is cancelled."})
    _lock_boards([meeting.board_id])
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if expected_version is not None and expected_version != meeting.version:
        raise StaleVersion(expected=expected_version, current=meeting.version)
    if meeting.status != Meeting.Status.PLANNED:
        raise ValidationError(
            {"meeting": f"The meeting is {meeting.get_status_display().lower()}: it cannot be cancelled."}
        )
    if meeting.starts_at <= timezone.now():
        raise ValidationError({"meeting": "The meeting has started: it cannot be cancelled any more."})
    deferred = _requeue_agenda(meeting, by=by, reason=f"meeting cancelled: {reason}")
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancelled_reason = reason
    meeting.version += 1
    _audit(meeting, by, f"cancelled: {reason}; {len(deferred)} case(s) went back to the queue")
    meeting.save(update_fields=["status", "cancelled_reason", "version", "updated_at"])
    return deferred


def meetings_close_ended(*, now: datetime | None = None) -> list[int]:
    """Close every planned or running meeting that ended MEETING_CLOSE_AFTER_HOURS ago or more
    (time for a meeting that ran over, and for the chair to sign its last decisions). Returns
    the ids closed. Each meeting is its own transaction; a re-run finds nothing left to do."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.MEETING_CLOSE_AFTER_HOURS)
    open_meetings = Meeting.objects.filter(
        status__in=(Meeting.Status.PLANNED, Meeting.Status.IN_PROGRESS), starts_at__lt=cutoff
    ).order_by("starts_at", "pk")
    closed = []
    for meeting in open_meetings:
        if _ended(meeting, cutoff):
            meeting_close(meeting=meeting, now=now)
            closed.append(meeting.pk)
    return closed
