"""Recurring meeting series: their occurrences and the meetings generated from them.

An occurrence is a local wall-clock time ("Tuesday 15:00 Europe/Ljubljana") turned into an aware
instant with zoneinfo for that very date, so it is 14:00 UTC in winter and 13:00 UTC in summer.
Generation is idempotent: a series has at most one meeting per local date, however often it runs.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from meetings.models import Meeting, MeetingSeries

logger = logging.getLogger(__name__)

DEFAULT_HORIZON_WEEKS = 12


def series_skip_dates(series: MeetingSeries) -> frozenset[date]:
    """The series' skip dates as dates. ValidationError names an entry that is not YYYY-MM-DD."""
    skipped: set[date] = set()
    for value in series.skip_dates or []:
        try:
            skipped.add(date.fromisoformat(str(value)))
        except ValueError:
            raise ValidationError(
                {"skip_dates": f"{value!r} is not a date (YYYY-MM-DD) in series {series.pk}."}
            ) from None
    return frozenset(skipped)


def series_occurrence_at(series: MeetingSeries, day: date) -> datetime:
    """The aware instant (UTC) of the series' wall-clock start time on the local date `day`.

    zoneinfo's default fold=0 matches RFC 5545 section 3.3.5: a local time that occurs twice is
    the first occurrence, and one skipped by a spring-forward gap uses the offset before the gap,
    so the meetings agree with what calendar clients compute from the series' RRULE.
    """
    local = datetime.combine(day, series.start_time, tzinfo=ZoneInfo(series.time_zone))
    return local.astimezone(UTC)


def series_occurrences(series: MeetingSeries, *, first: date, last: date) -> list[datetime]:
    """Occurrences on local dates first..last (inclusive), within starts_on/ends_on, skip dates
    left out, in time order. Pure: reads only the series' fields."""
    first = max(first, series.starts_on)
    if series.ends_on is not None:
        last = min(last, series.ends_on)
    skipped = series_skip_dates(series)
    day = first + timedelta(days=(series.weekday - first.weekday()) % 7)
    occurrences: list[datetime] = []
    while day <= last:
        if day not in skipped:
            occurrences.append(series_occurrence_at(series, day))
        day += timedelta(weeks=1)
    return occurrences


@transaction.atomic
def series_generate(
    *, series: MeetingSeries, weeks: int = DEFAULT_HORIZON_WEEKS, now: datetime | None = None
) -> list[Meeting]:
    """Create the series' missing meetings that start after `now` and within `weeks` weeks.

    Idempotent: a local date that already has a meeting of this series (in any status, at any
    time, so a cancelled or hand-moved meeting is not recreated) gets none. The series row is
    locked, so concurrent runs generate each occurrence once. Each meeting copies the series'
    time zone, duration, place, video link, chair, capacity and minutes per case, and is saved
    with history. Returns the meetings created. An inactive series generates nothing.
    """
    now = now or timezone.now()
    series = MeetingSeries.objects.select_for_update().get(pk=series.pk)
    if not series.is_active:
        return []
    zone = ZoneInfo(series.time_zone)
    today = now.astimezone(zone).date()
    existing = {
        starts_at.astimezone(zone).date()
        for starts_at in Meeting.objects.filter(series=series, starts_at__gte=now - timedelta(days=1)).values_list(
            "starts_at", flat=True
        )
    }
    created: list[Meeting] = []
    for starts_at in series_occurrences(series, first=today, last=today + timedelta(weeks=weeks)):
        if starts_at <= now or starts_at.astimezone(zone).date() in existing:
            continue
        meeting = Meeting(
            board_id=series.board_id,
            series=series,
            title=series.title,
            starts_at=starts_at,
            time_zone=series.time_zone,
            duration_minutes=series.duration_minutes,
            place=series.place,
            video_link=series.video_link,
            chair_id=series.chair_id,
            capacity_minutes=series.capacity_minutes,
            minutes_per_case=series.minutes_per_case,
        )
        meeting.full_clean()
        meeting._change_reason = f"generated from series {series.pk}"  # type: ignore[attr-defined]  # read by simple-history
        meeting.save()
        created.append(meeting)
    return created


def series_generate_all(*, weeks: int = DEFAULT_HORIZON_WEEKS, now: datetime | None = None) -> int:
    """Run series_generate for every active series, each in its own transaction, so a series with
    bad data (logged) does not stop the others. Returns the number of meetings created."""
    created = 0
    for series in MeetingSeries.objects.filter(is_active=True).order_by("pk"):
        try:
            created += len(series_generate(series=series, weeks=weeks, now=now))
        except ValidationError:
            logger.exception("Meeting series %s could not be generated", series.pk)
    return created
