"""Meeting tasks: thin, idempotent, run by beat and on demand (house style 6-7).

Each re-fetches what it needs by id and calls one service; the database decides what is left to
do (meetings that exist, cases still `ready`, agendas with no agenda_sent_at), so a repeated or
re-delivered message does no harm.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from accounts.models import Board, User
from meetings.models import MeetingSeries
from meetings.notifications import agendas_send_due
from meetings.scheduling import agenda_schedule, meetings_close_ended
from meetings.series import DEFAULT_HORIZON_WEEKS, series_generate, series_generate_all


def _horizon_weeks() -> int:
    return int(getattr(settings, "MEETING_SERIES_HORIZON_WEEKS", DEFAULT_HORIZON_WEEKS))


@shared_task(name="meetings.generate_series_meetings", soft_time_limit=120, time_limit=180)  # type: ignore[untyped-decorator]
def generate_series_meetings(series_id: int | None = None) -> int:
    """Create the missing meetings of one series (all active series when None) for the horizon
    (MEETING_SERIES_HORIZON_WEEKS, default 12). Returns the number created."""
    if series_id is None:
        return series_generate_all(weeks=_horizon_weeks())
    series = MeetingSeries.objects.get(pk=series_id)
    return len(series_generate(series=series, weeks=_horizon_weeks()))


# A concurrent run or a coordinator's edit holding the board lock can end in a lock timeout or a
# deadlock victim: retrying is safe because the run is idempotent.
@shared_task(  # type: ignore[untyped-decorator]
    name="meetings.schedule_ready_cases",
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=3,
)
def schedule_ready_cases(board_id: int | None = None, requested_by_id: int | None = None) -> dict[str, Any]:
    """Place the ready cases of one board (all boards when None); the result lists the emergencies
    and the cases left without a meeting, for the caller to show."""
    board = Board.objects.get(pk=board_id) if board_id is not None else None
    by = User.objects.get(pk=requested_by_id) if requested_by_id is not None else None
    return agenda_schedule(board=board, by=by).as_dict()


@shared_task(name="meetings.send_due_agendas", soft_time_limit=120, time_limit=180)  # type: ignore[untyped-decorator]
def send_due_agendas() -> list[int]:
    """Send the agendas of meetings starting within AGENDA_LEAD_TIME_HOURS; returns their ids.
    No retry: a failed meeting stays due and the next beat run sends it."""
    return agendas_send_due()


@shared_task(name="meetings.close_ended_meetings", soft_time_limit=240, time_limit=300)  # type: ignore[untyped-decorator]
def close_ended_meetings() -> list[int]:
    """Close the meetings that have ended, sending their undiscussed cases back to the queue;
    returns the ids closed. No retry: what is left stays open and the next beat run closes it."""
    return meetings_close_ended()
