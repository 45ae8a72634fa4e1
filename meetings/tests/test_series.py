"""Recurring series: local wall-clock times across daylight-saving changes, skip dates, bounds,
idempotent generation (issue 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from meetings.models import Meeting
from meetings.series import series_generate, series_generate_all, series_occurrences
from meetings.tasks import generate_series_meetings
from meetings.tests.factories import MeetingSeriesFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def test_a_tuesday_15_00_series_stays_15_00_local_across_both_changes_of_2027() -> None:
    # Europe/Ljubljana: summer time from Sunday 28 March to Sunday 31 October 2027.
    series = MeetingSeriesFactory.build(starts_on=date(2027, 3, 1))
    spring = series_occurrences(series, first=date(2027, 3, 22), last=date(2027, 3, 31))
    autumn = series_occurrences(series, first=date(2027, 10, 25), last=date(2027, 11, 3))
    assert spring == [datetime(2027, 3, 23, 14, 0, tzinfo=UTC), datetime(2027, 3, 30, 13, 0, tzinfo=UTC)]
    assert autumn == [datetime(2027, 10, 26, 13, 0, tzinfo=UTC), datetime(2027, 11, 2, 14, 0, tzinfo=UTC)]


def test_occurrences_honour_bounds_and_skip_dates() -> None:
    series = MeetingSeriesFactory.build(
        starts_on=date(2027, 4, 7), ends_on=date(2027, 5, 4), skip_dates=["2027-04-20", "2027-12-25"]
    )
    days = [o.date() for o in series_occurrences(series, first=date(2027, 1, 1), last=date(2027, 12, 31))]
    assert days == [date(2027, 4, 13), date(2027, 4, 27), date(2027, 5, 4)]


def test_a_bad_skip_date_is_a_validation_error_naming_it() -> None:
    series = MeetingSeriesFactory.build(skip_dates=["2027-02-30"])
    with pytest.raises(ValidationError, match="2027-02-30"):
        series_occurrences(series, first=date(2027, 1, 1), last=date(2027, 12, 31))


def test_generation_creates_the_horizon_copying_the_series_and_is_idempotent(personas) -> None:
    series = MeetingSeriesFactory(
        board=personas.board, chair=personas.chair, starts_on=date(2027, 3, 1), skip_dates=["2027-03-16"]
    )
    created = series_generate(series=series, weeks=6, now=NOW)
    # 2 March .. 12 April: six Tuesdays, one skipped.
    assert [m.starts_at for m in created] == [
        datetime(2027, 3, 2, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 9, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 23, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 30, 13, 0, tzinfo=UTC),
        datetime(2027, 4, 6, 13, 0, tzinfo=UTC),
    ]
    first = Meeting.objects.get(pk=created[0].pk)
    assert (first.board, first.series, first.chair) == (personas.board, series, personas.chair)
    assert (first.capacity_minutes, first.minutes_per_case, first.duration_minutes) == (60, 10, 90)
    assert (first.place, first.video_link, first.time_zone) == (series.place, series.video_link, "Europe/Ljubljana")
    assert first.history.get().history_change_reason == f"generated from series {series.pk}"

    assert series_generate(series=series, weeks=6, now=NOW) == []
    assert series_generate(series=series, weeks=7, now=NOW)[0].starts_at == datetime(2027, 4, 13, 13, 0, tzinfo=UTC)
    assert Meeting.objects.filter(series=series).count() == 6


def test_generation_leaves_out_the_past_and_does_not_recreate_a_cancelled_or_moved_meeting(personas) -> None:
    series = MeetingSeriesFactory(board=personas.board, starts_on=date(2027, 1, 1))
    # Tuesday 2 March 15:00 local has already begun at 15:30 local.
    created = series_generate(series=series, weeks=2, now=datetime(2027, 3, 2, 14, 30, tzinfo=UTC))
    assert [m.starts_at.date() for m in created] == [date(2027, 3, 9), date(2027, 3, 16)]
    Meeting.objects.filter(pk=created[0].pk).update(status=Meeting.Status.CANCELLED)
    Meeting.objects.filter(pk=created[1].pk).update(starts_at=datetime(2027, 3, 16, 8, 0, tzinfo=UTC))
    assert series_generate(series=series, weeks=2, now=datetime(2027, 3, 2, 14, 30, tzinfo=UTC)) == []


def test_inactive_or_ended_series_generate_nothing(personas) -> None:
    inactive = MeetingSeriesFactory(board=personas.board, is_active=False, starts_on=date(2027, 1, 1))
    ended = MeetingSeriesFactory(board=personas.board, starts_on=date(2026, 1, 1), ends_on=date(2027, 2, 1))
    assert series_generate(series=inactive, weeks=4, now=NOW) == []
    assert series_generate(series=ended, weeks=4, now=NOW) == []


def test_generate_all_skips_a_broken_series_and_does_the_others(personas, caplog) -> None:
    MeetingSeriesFactory(board=personas.board, starts_on=date(2027, 1, 1), skip_dates=["not a date"])
    good = MeetingSeriesFactory(board=personas.board, starts_on=date(2027, 1, 1), weekday=3, start_time=time(8, 0))
    assert series_generate_all(weeks=1, now=NOW) == 1
    assert Meeting.objects.get().series == good
    assert "could not be generated" in caplog.text


def test_task_generates_one_series_or_all(personas, settings) -> None:
    settings.MEETING_SERIES_HORIZON_WEEKS = 2
    series = MeetingSeriesFactory(board=personas.board, starts_on=date(2020, 1, 1))
    created = generate_series_meetings(series.pk)
    # Two weeks hold two or three Tuesdays, depending on today.
    assert created in (2, 3)
    assert Meeting.objects.filter(series=series).count() == created
    assert generate_series_meetings() == 0
