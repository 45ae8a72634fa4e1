"""The scheduler and the coordinator's agenda edits (issue 6): capacity, priority, idempotency,
manual placements, deferral, emergencies, ad hoc meetings, and a query count that does not grow
with the number of cases."""

from __future__ import annotations

import math
import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Board, User
from cases.models import SECTION_MODELS, Case, Patient
from common.errors import StaleVersion
from common.history import snapshot_batch_size
from meetings.models import AgendaItem, Meeting
from meetings.scheduling import (
    agenda_defer,
    agenda_move,
    agenda_place,
    agenda_remove,
    agenda_schedule,
    meeting_cancel,
    meeting_close,
    meeting_label,
    meetings_close_ended,
)
from meetings.tasks import close_ended_meetings, schedule_ready_cases
from tests.factories import BoardFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _agenda(meeting: Meeting) -> list[int]:
    """Case ids of the meeting's planned items, in agenda order."""
    return list(
        AgendaItem.objects.filter(meeting=meeting, state="planned").order_by("order").values_list("case_id", flat=True)
    )


def _orders(meeting: Meeting) -> list[int]:
    return list(
        AgendaItem.objects.filter(meeting=meeting, state="planned").order_by("order").values_list("order", flat=True)
    )


def _status(case: Case) -> str:
    return Case.objects.get(pk=case.pk).status


# --- The scheduler ------------------------------------------------------------------------------


def test_cases_fill_the_earliest_meetings_by_urgency_then_referral_date_never_past_capacity(ready_case, meeting):
    later, earliest = meeting(days=14), meeting(days=7)
    old_routine = ready_case(referral_date=TODAY - timedelta(days=40))
    new_routine = ready_case(referral_date=TODAY - timedelta(days=5))
    newest_urgent = ready_case("urgent", referral_date=TODAY - timedelta(days=1))
    old_urgent = ready_case("urgent", referral_date=TODAY - timedelta(days=30))
    mid_routine = ready_case(referral_date=TODAY - timedelta(days=20))
    newest_routine = ready_case(referral_date=TODAY)
    overflow = ready_case(referral_date=TODAY)

    result = agenda_schedule()

    assert _agenda(earliest) == [old_urgent.pk, newest_urgent.pk, old_routine.pk]
    assert _agenda(later) == [mid_routine.pk, new_routine.pk, newest_routine.pk]
    assert result.unplaced == (overflow.pk,)
    assert len(result.placed) == 6
    for m in (earliest, later):
        used = AgendaItem.objects.filter(meeting=m, state="planned").aggregate(s=Sum("allotted_minutes"))["s"]
        assert used <= m.capacity_minutes
    assert _status(old_urgent) == "scheduled" and _status(overflow) == "ready"


def test_placement_moves_the_case_to_scheduled_with_history(ready_case, meeting):
    m = meeting()
    case = ready_case()
    agenda_schedule()
    case.refresh_from_db()
    assert (case.status, case.version) == ("scheduled", 2)
    record = case.history.order_by("-history_id").first()
    assert record.status == "scheduled"
    assert record.history_change_reason.startswith("placed on Spine tumour board, ")
    assert record.history_change_reason.endswith("by the scheduler")
    item = AgendaItem.objects.get(case=case)
    assert (item.meeting, item.order, item.allotted_minutes, item.is_manual) == (m, 1, 10, False)
    assert item.history.get().history_change_reason == "placed by the scheduler"


def test_re_running_places_nothing_twice_and_loses_no_case(ready_case, meeting):
    first, second = meeting(days=7), meeting(days=14)
    cases = [ready_case(referral_date=TODAY - timedelta(days=i)) for i in range(5)]
    agenda_schedule()
    before = list(AgendaItem.objects.order_by("pk").values_list("pk", "meeting_id", "case_id", "order"))

    again = agenda_schedule()

    assert again.placed == () and again.unplaced == ()
    assert list(AgendaItem.objects.order_by("pk").values_list("pk", "meeting_id", "case_id", "order")) == before
    assert sorted(_agenda(first) + _agenda(second)) == sorted(c.pk for c in cases)
    # A case that becomes ready later joins the end of the first meeting with room.
    newcomer = ready_case()
    agenda_schedule()
    assert _agenda(second)[-1] == newcomer.pk and _orders(second) == [1, 2, 3]


def test_manual_placements_stay_put_and_count_against_capacity(ready_case, meeting, personas):
    m = meeting(capacity_minutes=30)
    manual_a, manual_b = ready_case(), ready_case()
    agenda_place(case=manual_a, meeting=m, by=personas.coordinator)
    agenda_place(case=manual_b, meeting=m, by=personas.coordinator)
    urgent = ready_case("urgent", referral_date=TODAY - timedelta(days=100))
    routine = ready_case()

    result = agenda_schedule()

    assert _agenda(m) == [manual_a.pk, manual_b.pk, urgent.pk]
    assert AgendaItem.objects.filter(is_manual=True).count() == 2
    assert result.unplaced == (routine.pk,)


def test_a_deferred_case_goes_first_in_its_urgency_next_run(ready_case, meeting, personas):
    this_week = meeting(days=2, capacity_minutes=10)
    case = ready_case(referral_date=TODAY - timedelta(days=1))
    agenda_schedule()
    item = AgendaItem.objects.get(case=case)

    agenda_defer(item=item, by=personas.chair, reason="Awaiting the new MRI")

    item.refresh_from_db()
    assert (item.state, item.deferred_reason) == ("deferred", "Awaiting the new MRI")
    assert _status(case) == "ready"
    Meeting.objects.filter(pk=this_week.pk).update(status=Meeting.Status.CLOSED)
    next_week = meeting(days=9, capacity_minutes=20)
    older = ready_case(referral_date=TODAY - timedelta(days=60))
    urgent = ready_case("urgent", referral_date=TODAY)
    agenda_schedule()
    # Urgency still comes first; within routine the deferred case beats an older referral.
    assert _agenda(next_week) == [urgent.pk, case.pk]
    assert _status(older) == "ready"


def test_emergencies_are_reported_not_parked(ready_case, meeting):
    m = meeting()
    emergency = ready_case("emergency")
    routine = ready_case()
    result = agenda_schedule()
    assert result.emergencies == (emergency.pk,)
    assert _agenda(m) == [routine.pk]
    assert _status(emergency) == "ready"
    assert schedule_ready_cases()["emergencies"] == [emergency.pk]


def test_ad_hoc_meetings_take_urgent_cases_only(ready_case, meeting):
    ad_hoc = meeting(days=1, is_ad_hoc=True)
    regular = meeting(days=7)
    routine = ready_case(referral_date=TODAY - timedelta(days=90))
    urgent = ready_case("urgent", referral_date=TODAY)
    agenda_schedule()
    assert _agenda(ad_hoc) == [urgent.pk]
    assert _agenda(regular) == [routine.pk]


def test_only_future_planned_meetings_of_the_cases_board_count(ready_case, meeting, personas):
    meeting(days=-1)
    meeting(days=3, status=Meeting.Status.CANCELLED)
    meeting(days=4, board=personas.other_board)
    open_meeting = meeting(days=5)
    case = ready_case()
    agenda_schedule(board=personas.board)
    assert _agenda(open_meeting) == [case.pk]


def test_scheduling_one_board_leaves_the_others_alone(ready_case, meeting, personas, make_case):
    meeting(days=4, board=personas.other_board)
    theirs = make_case(board=personas.other_board, created_by=personas.outsider)
    Case.objects.filter(pk=theirs.pk).update(status="ready")
    assert schedule_ready_cases(board_id=personas.board.pk)["placed"] == 0
    assert _status(theirs) == "ready"
    result = schedule_ready_cases(board_id=personas.other_board.pk, requested_by_id=personas.coordinator.pk)
    assert result["placed"] == 1
    assert Case.objects.get(pk=theirs.pk).history.order_by("-history_id").first().history_user == personas.coordinator


def test_a_ready_case_still_on_an_agenda_is_reported_not_placed_twice(ready_case, meeting):
    m = meeting()
    case = ready_case()
    agenda_schedule()
    # A section reopened and resubmitted while on the agenda: the case is ready again.
    Case.objects.filter(pk=case.pk).update(status="ready")
    result = agenda_schedule()
    assert result.already_planned == (case.pk,)
    assert AgendaItem.objects.filter(case=case).count() == 1 and _agenda(m) == [case.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres  # SQLite has no row locks to wait on
def test_concurrent_runs_on_a_board_are_serialised_and_place_each_case_once(ready_case, meeting, personas):
    meeting(capacity_minutes=30)
    for _ in range(3):
        ready_case()
    results = {}

    def second_run() -> None:
        try:
            results["second"] = agenda_schedule(board=personas.board)
        finally:
            connection.close()

    with transaction.atomic():
        results["first"] = agenda_schedule(board=personas.board)
        # The first run has not committed: the second waits for the board's lock.
        second = threading.Thread(target=second_run)
        second.start()
        second.join(timeout=1)
        assert second.is_alive()
    second.join(timeout=30)
    assert len(results["first"].placed) == 3
    assert results["second"].placed == () and results["second"].unplaced == ()
    assert AgendaItem.objects.count() == 3


# --- Manual edits -------------------------------------------------------------------------------


def test_place_by_hand_at_a_position_renumbers_the_rest(ready_case, meeting, personas):
    m = meeting(capacity_minutes=40)
    a, b, c = ready_case(), ready_case(), ready_case()
    agenda_place(case=a, meeting=m, by=personas.coordinator)
    agenda_place(case=b, meeting=m, by=personas.coordinator)
    item = agenda_place(case=c, meeting=m, by=personas.coordinator, order=1)
    assert _agenda(m) == [c.pk, a.pk, b.pk] and _orders(m) == [1, 2, 3]
    assert item.is_manual
    record = item.history.get()
    assert record.history_user == personas.coordinator and record.history_change_reason.endswith("at #1")
    case_record = Case.objects.get(pk=c.pk).history.order_by("-history_id").first()
    assert case_record.status == "scheduled" and case_record.history_user == personas.coordinator


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("full", "The meeting is full: 10 of 10 minutes are planned"),
        ("not_ready", "The case is in_workup; only ready cases"),
        ("elsewhere", "already on the agenda of Spine tumour board"),
        ("ad_hoc", "Ad hoc meetings are for urgent and emergency cases"),
        ("other_board", "another board"),
        ("past", "have not started"),
        ("bad_order", "between 1 and 1"),
    ],
)
def test_place_by_hand_refuses_with_a_clear_reason(setup, message, ready_case, meeting, personas):
    m = meeting(capacity_minutes=10, is_ad_hoc=setup == "ad_hoc")
    case = ready_case()
    order = None
    if setup == "full":
        agenda_place(case=ready_case("urgent"), meeting=m, by=personas.coordinator)
    elif setup == "not_ready":
        Case.objects.filter(pk=case.pk).update(status="in_workup")
    elif setup == "elsewhere":
        agenda_place(case=case, meeting=meeting(days=3), by=personas.coordinator)
    elif setup == "other_board":
        m = meeting(board=personas.other_board)
    elif setup == "past":
        m = meeting(days=-1)
    elif setup == "bad_order":
        order = 2
    with pytest.raises(ValidationError, match=message):
        agenda_place(case=case, meeting=m, by=personas.coordinator, order=order)
    assert AgendaItem.objects.filter(meeting=m, case=case).count() == 0


def test_urgent_and_emergency_cases_may_go_on_an_ad_hoc_meeting_by_hand(ready_case, meeting, personas):
    m = meeting(is_ad_hoc=True)
    agenda_place(case=ready_case("urgent"), meeting=m, by=personas.coordinator)
    agenda_place(case=ready_case("emergency"), meeting=m, by=personas.coordinator)
    assert len(_agenda(m)) == 2


def test_move_keeps_orders_contiguous(ready_case, meeting, personas):
    m = meeting(capacity_minutes=40)
    cases = [ready_case(referral_date=TODAY - timedelta(days=10 - i)) for i in range(4)]
    agenda_schedule()
    last = AgendaItem.objects.get(case=cases[3])
    agenda_move(item=last, order=1, by=personas.coordinator)
    assert _agenda(m) == [cases[3].pk, cases[0].pk, cases[1].pk, cases[2].pk] and _orders(m) == [1, 2, 3, 4]
    first = AgendaItem.objects.get(case=cases[3])
    assert first.history.order_by("-history_id").first().history_change_reason.startswith("moved to #1")
    agenda_move(item=first, order=3, by=personas.coordinator)
    assert _agenda(m) == [cases[0].pk, cases[1].pk, cases[3].pk, cases[2].pk] and _orders(m) == [1, 2, 3, 4]
    with pytest.raises(ValidationError, match="between 1 and 4"):
        agenda_move(item=first, order=5, by=personas.coordinator)


def test_remove_withdraws_the_item_and_the_case_goes_back_to_ready(ready_case, meeting, personas):
    m = meeting()
    a, b, c = (ready_case(referral_date=TODAY - timedelta(days=3 - i)) for i in range(3))
    agenda_schedule()
    item = AgendaItem.objects.get(case=a)
    with pytest.raises(ValidationError, match="Say why"):
        agenda_remove(item=item, by=personas.coordinator, reason="  ")
    agenda_remove(item=item, by=personas.coordinator, reason="Patient declined surgery review")
    item.refresh_from_db()
    assert item.state == "withdrawn"
    assert _agenda(m) == [b.pk, c.pk] and _orders(m) == [1, 2]
    case = Case.objects.get(pk=a.pk)
    assert case.status == "ready"
    assert (
        case.history.order_by("-history_id").first().history_change_reason.endswith("Patient declined surgery review")
    )
    with pytest.raises(ValidationError, match="withdrawn, not planned"):
        agenda_defer(item=item, by=personas.coordinator, reason="again")


def test_agenda_of_a_closed_meeting_cannot_change(ready_case, meeting, personas):
    m = meeting()
    ready_case()
    agenda_schedule()
    Meeting.objects.filter(pk=m.pk).update(status=Meeting.Status.CLOSED)
    with pytest.raises(ValidationError, match="closed"):
        agenda_defer(item=AgendaItem.objects.get(), by=personas.chair, reason="late")


# --- Closing meetings that have ended -------------------------------------------------------------


def test_an_ended_meeting_closes_and_its_undiscussed_cases_go_back_to_the_front_of_the_queue(
    ready_case, meeting, personas, django_capture_on_commit_callbacks
):
    last_week = meeting(days=2, capacity_minutes=20)
    undiscussed, discussed = ready_case(referral_date=TODAY - timedelta(days=3)), ready_case()
    agenda_schedule()
    AgendaItem.objects.filter(case=discussed).update(state=AgendaItem.State.PRESENTED)
    Case.objects.filter(pk=discussed.pk).update(status="discussed")
    # The meeting took place two days ago; the chair never reached the first case.
    Meeting.objects.filter(pk=last_week.pk).update(starts_at=timezone.now() - timedelta(days=2))
    next_week = meeting(days=5, capacity_minutes=20)
    older = ready_case(referral_date=TODAY - timedelta(days=90))

    with django_capture_on_commit_callbacks(execute=True):
        assert meetings_close_ended() == [last_week.pk]

    last_week.refresh_from_db()
    assert last_week.status == Meeting.Status.CLOSED
    item = AgendaItem.objects.get(case=undiscussed, meeting=last_week)
    assert (item.state, item.deferred_reason) == ("deferred", f"not discussed at {meeting_label(last_week)}")
    assert AgendaItem.objects.get(case=discussed).state == AgendaItem.State.PRESENTED
    # The scheduler ran on commit: the carried-over case is placed ahead of an older referral.
    assert _agenda(next_week) == [undiscussed.pk, older.pk]
    assert _status(undiscussed) == "scheduled" and _status(discussed) == "discussed"
    history = Case.objects.get(pk=undiscussed.pk).history.order_by("history_id")
    assert any("not discussed at" in (h.history_change_reason or "") for h in history)
    # Nothing left to do on a re-run.
    assert meetings_close_ended() == []


def test_a_meeting_is_closed_only_after_the_grace_period_and_never_before_it_ended(ready_case, meeting, settings):
    settings.MEETING_CLOSE_AFTER_HOURS = 12
    running_late = meeting(days=0, duration_minutes=60)
    Meeting.objects.filter(pk=running_late.pk).update(starts_at=timezone.now() - timedelta(hours=2))
    ready_case()
    assert meetings_close_ended() == []  # ended an hour ago: the chair may still be signing
    assert meetings_close_ended(now=timezone.now() + timedelta(hours=12)) == [running_late.pk]
    upcoming = meeting(days=1)
    with pytest.raises(ValidationError, match="has not ended"):
        meeting_close(meeting=upcoming)
    cancelled = meeting(days=-3, status=Meeting.Status.CANCELLED)
    assert meeting_close(meeting=cancelled) == [] and Meeting.objects.get(pk=cancelled.pk).status == "cancelled"


def test_a_cancelled_meeting_sends_its_cases_back_to_the_queue_and_onto_the_next_meeting(
    ready_case, meeting, personas, django_capture_on_commit_callbacks
):
    holiday = meeting(days=2)
    first, second = ready_case(), ready_case()
    agenda_schedule()
    next_week = meeting(days=9)
    with django_capture_on_commit_callbacks(execute=True):
        deferred = meeting_cancel(meeting=holiday, by=personas.coordinator, reason="Public holiday", expected_version=1)
    holiday.refresh_from_db()
    assert (holiday.status, holiday.cancelled_reason, holiday.version) == ("cancelled", "Public holiday", 2)
    assert {item.case_id for item in deferred} == {first.pk, second.pk}
    assert {i.deferred_reason for i in AgendaItem.objects.filter(meeting=holiday)} == {
        "meeting cancelled: Public holiday"
    }
    assert sorted(_agenda(next_week)) == sorted([first.pk, second.pk])
    assert holiday.history.first().history_change_reason.startswith("cancelled: Public holiday")


def test_cancelling_needs_a_reason_a_current_version_and_a_meeting_not_yet_started(ready_case, meeting, personas):
    planned = meeting(days=2)
    with pytest.raises(ValidationError, match="Say why"):
        meeting_cancel(meeting=planned, by=personas.coordinator, reason="  ")
    with pytest.raises(StaleVersion):
        meeting_cancel(meeting=planned, by=personas.coordinator, reason="Holiday", expected_version=7)
    started = meeting(days=2)
    Meeting.objects.filter(pk=started.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(ValidationError, match="has started"):
        meeting_cancel(meeting=started, by=personas.coordinator, reason="Holiday")
    meeting_cancel(meeting=planned, by=personas.coordinator, reason="Holiday")
    with pytest.raises(ValidationError, match="cancelled: it cannot be cancelled"):
        meeting_cancel(meeting=planned, by=personas.coordinator, reason="Again")


def test_the_beat_schedule_runs_the_close_sweep(settings):
    assert settings.CELERY_BEAT_SCHEDULE["close-ended-meetings"]["task"] == close_ended_meetings.name


# --- Scale --------------------------------------------------------------------------------------


def _bulk_ready_cases(board: Board, by: User, count: int) -> None:
    """`count` ready cases with their four sections, written in bulk (the service is too slow for
    thousands); one in ten urgent, referral dates spread over a year."""
    patients = Patient.objects.bulk_create(
        Patient(board=board, mrn=f"B{board.pk}-{i}", name=f"Patient {i}", birth_date=date(1960, 1, 1), sex="female")
        for i in range(count)
    )
    cases = Case.objects.bulk_create(
        Case(
            patient=patient,
            board=board,
            referral_date=TODAY - timedelta(days=i % 365),
            referral_reason="Back pain, known cancer",
            referred_primary="breast",
            status="ready",
            urgency="urgent" if i % 10 == 0 else "routine",
            created_by=by,
        )
        for i, patient in enumerate(patients)
    )
    for model in SECTION_MODELS.values():
        model.objects.bulk_create(model(case=case) for case in cases)  # type: ignore[attr-defined]


def _bulk_meetings(board: Board, count: int) -> None:
    start = timezone.now() + timedelta(days=1)
    Meeting.objects.bulk_create(
        Meeting(
            board=board,
            title="Spine tumour board",
            starts_at=start + timedelta(days=7 * i),
            duration_minutes=120,
            capacity_minutes=600,
            minutes_per_case=10,
            is_ad_hoc=i % 20 == 0,
        )
        for i in range(count)
    )


def _bulk_statements(rows: int) -> int:
    """Statements the scheduler's three bulk inserts need for `rows` placements on this backend.

    PostgreSQL takes any number of rows in one statement (1 each). SQLite caps a statement at
    Django's parameter limit (999), so the agenda items are inserted in batches and the history
    rows copied in batches (common.history.snapshot_batch_size): growth that comes from that
    limit, not from a query per case.
    """
    from meetings.models import AgendaItem as Item

    items = math.ceil(
        rows
        / connection.ops.bulk_batch_size([f for f in Item._meta.concrete_fields if not f.primary_key], [None] * rows)
    )
    return items + 2 * math.ceil(rows / snapshot_batch_size())


def test_query_count_does_not_grow_with_the_number_of_cases(personas):
    small, large = personas.board, BoardFactory(name="Large MDT")
    _bulk_ready_cases(small, personas.coordinator, 10)
    _bulk_meetings(small, 200)
    _bulk_ready_cases(large, personas.coordinator, 10_000)
    _bulk_meetings(large, 200)

    with CaptureQueriesContext(connection) as few:
        assert len(agenda_schedule(board=small).placed) == 10
    with CaptureQueriesContext(connection) as many:
        result = agenda_schedule(board=large)

    assert len(result.placed) == 10_000 and result.unplaced == ()
    assert len(many) - _bulk_statements(10_000) == len(few) - _bulk_statements(10)
    if connection.vendor == "postgresql":
        assert len(many) == len(few)
    over = Meeting.objects.filter(board=large).annotate(used=Sum("agenda_items__allotted_minutes")).filter(used__gt=600)
    assert not over.exists()
    # Routine cases never on the ad hoc meetings; history written for every case.
    assert not AgendaItem.objects.filter(meeting__is_ad_hoc=True, case__urgency="routine").exists()
    assert Case.history.filter(board=large, status="scheduled").count() == 10_000  # type: ignore[attr-defined]


def test_history_keeps_a_long_reason_whole(ready_case, meeting, personas):
    # PostgreSQL refused reasons over 100 characters in the default history column (a 500 on a
    # long deferral, amendment or reopen reason); history now keeps the text whole.
    from django.apps import apps

    for model in apps.get_models():
        if model.__name__.startswith("Historical"):
            assert model._meta.get_field("history_change_reason").get_internal_type() == "TextField", model
    meeting()
    case = ready_case()
    agenda_schedule()
    reason = "Awaiting the repeat MRI of the whole spine; " * 30
    agenda_defer(item=AgendaItem.objects.get(case=case), by=personas.chair, reason=reason)
    latest = Case.objects.get(pk=case.pk).history.order_by("-history_id").first()
    assert latest.history_change_reason.endswith(reason)
