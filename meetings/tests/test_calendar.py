"""iCalendar output (RFC 5545): structure, local times across daylight-saving changes, escaping
and folding, for a meeting, a series and a person's feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from meetings.calendar import escape_text, fold, meeting_ics, person_calendar_ics, series_ics, vtimezone
from meetings.models import Meeting
from meetings.tests.factories import MeetingFactory, MeetingSeriesFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STAMP = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)


def _lines(text: str) -> list[str]:
    """Check the physical lines (CRLF, at most 75 octets) and return the unfolded content lines."""
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in physical)
    assert all(len(line.encode()) <= 75 for line in physical)
    return text.replace("\r\n ", "")[:-2].split("\r\n")


def _components(lines: list[str]) -> list[str]:
    """BEGIN/END properly nested; returns the component names in order of opening."""
    stack: list[str] = []
    opened: list[str] = []
    for line in lines:
        if line.startswith("BEGIN:"):
            stack.append(line[6:])
            opened.append(line[6:])
        elif line.startswith("END:"):
            assert stack.pop() == line[4:]
    assert stack == []
    return opened


def _event(lines: list[str]) -> dict[str, str]:
    start = lines.index("BEGIN:VEVENT")
    props = {}
    for line in lines[start + 1 : lines.index("END:VEVENT", start)]:
        name, _, value = line.partition(":")
        props[name] = value
    return props


def test_fold_splits_at_75_octets_without_breaking_a_character() -> None:
    assert fold("x" * 75) == "x" * 75
    assert fold("x" * 76) == "x" * 75 + "\r\n x"
    folded = fold("DESCRIPTION:" + "č" * 60)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "DESCRIPTION:" + "č" * 60
    folded.encode().decode()  # every physical line is valid UTF-8 on its own
    for part in folded.split("\r\n"):
        part.encode().decode()


def test_text_values_are_escaped() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_a_meeting_is_a_valid_calendar_at_its_local_time(personas) -> None:
    summer = MeetingFactory(
        board=personas.board,
        title="Spine MDT; extra, with a very long title that must be folded over more than one line",
        starts_at=datetime(2027, 3, 30, 13, 0, tzinfo=UTC),
        duration_minutes=90,
        place="Room 3\\B, Onkološki inštitut",
        video_link="https://video.example.org/spine-mdt",
    )
    lines = _lines(meeting_ics(summer, now=STAMP))
    assert _components(lines) == ["VCALENDAR", "VTIMEZONE", "DAYLIGHT", "STANDARD", "VEVENT"]
    assert lines[:3] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tumourboard//meetings//EN"]
    event = _event(lines)
    assert event["UID"] == f"meeting-{summer.pk}@tumourboard"
    assert event["DTSTAMP"] == "20270115T093000Z"
    assert event["DTSTART;TZID=Europe/Ljubljana"] == "20270330T150000"
    assert event["DTEND;TZID=Europe/Ljubljana"] == "20270330T163000"
    assert (
        event["SUMMARY"] == "Spine MDT\\; extra\\, with a very long title that must be folded over more than one line"
    )
    assert event["LOCATION"] == "Room 3\\\\B\\, Onkološki inštitut"
    assert event["DESCRIPTION"] == (
        "Tumour board meeting of Spine MDT. Agenda and cases are in tumourboard.\\n"
        "Video: https://video.example.org/spine-mdt"
    )
    assert event["STATUS"] == "CONFIRMED"
    assert "TZID:Europe/Ljubljana" in lines

    winter = MeetingFactory(board=personas.board, starts_at=datetime(2027, 11, 2, 14, 0, tzinfo=UTC))
    assert _event(_lines(meeting_ics(winter)))["DTSTART;TZID=Europe/Ljubljana"] == "20271102T150000"


def test_the_time_zone_follows_the_eu_rules() -> None:
    lines = vtimezone("Europe/Ljubljana", 2027, 2027)
    daylight = lines[lines.index("BEGIN:DAYLIGHT") : lines.index("END:DAYLIGHT")]
    standard = lines[lines.index("BEGIN:STANDARD") : lines.index("END:STANDARD")]
    assert {"TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"} <= set(
        daylight
    )
    assert {"TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"} <= set(
        standard
    )
    assert vtimezone("UTC", 2027, 2027)[2:6] == [
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0000",
        "TZOFFSETTO:+0000",
    ]


def test_a_series_is_one_recurring_event_with_its_skip_dates_excluded(personas) -> None:
    series = MeetingSeriesFactory(
        board=personas.board,
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 12, 31),
        skip_dates=["2027-04-06", "2027-12-28", "2027-04-07", "2026-12-29"],
    )
    MeetingFactory(
        board=personas.board, series=series, starts_at=datetime(2027, 11, 2, 14, 0, tzinfo=UTC), status="cancelled"
    )
    lines = _lines(series_ics(series, now=STAMP))
    assert _components(lines) == ["VCALENDAR", "VTIMEZONE", "DAYLIGHT", "STANDARD", "VEVENT"]
    event = _event(lines)
    assert event["UID"] == f"series-{series.pk}@tumourboard"
    assert event["DTSTART;TZID=Europe/Ljubljana"] == "20270302T150000"
    assert event["DURATION"] == "PT90M"
    # 28 December 2027 15:00 CET is 14:00 UTC.
    assert event["RRULE"] == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20271231T140000Z"
    # Local 15:00 on both sides of the changes; a skip date off the weekday or range is left out.
    assert event["EXDATE;TZID=Europe/Ljubljana"] == "20270406T150000,20271102T150000,20271228T150000"


def test_an_open_ended_series_has_no_until(personas) -> None:
    series = MeetingSeriesFactory(board=personas.board, starts_on=date(2027, 1, 7))
    event = _event(_lines(series_ics(series)))
    assert event["RRULE"] == "FREQ=WEEKLY;BYDAY=TU"
    assert event["DTSTART;TZID=Europe/Ljubljana"] == "20270112T150000"
    assert "EXDATE;TZID=Europe/Ljubljana" not in event


def test_a_persons_feed_lists_the_upcoming_meetings_of_their_boards(personas) -> None:
    now = timezone.now()
    ours = MeetingFactory(board=personas.board, title="Ours", starts_at=now + timedelta(days=2))
    running = MeetingFactory(board=personas.board, title="Running", starts_at=now - timedelta(minutes=30))
    cancelled = MeetingFactory(
        board=personas.board, title="Called off", starts_at=now + timedelta(days=3), status=Meeting.Status.CANCELLED
    )
    MeetingFactory(board=personas.board, title="Over", starts_at=now - timedelta(hours=3))
    MeetingFactory(board=personas.other_board, title="Theirs", starts_at=now + timedelta(days=2))

    lines = _lines(person_calendar_ics(personas.surgeon, now=now))
    assert "X-WR-CALNAME:Tumour board meetings" in lines
    assert _components(lines).count("VEVENT") == 3
    summaries = [line for line in lines if line.startswith("SUMMARY:")]
    assert summaries == ["SUMMARY:Running", "SUMMARY:Ours", "SUMMARY:Called off"]
    uids = {line[4:] for line in lines if line.startswith("UID:")}
    assert uids == {f"meeting-{m.pk}@tumourboard" for m in (ours, running, cancelled)}
    assert lines.count("STATUS:CANCELLED") == 1
    assert lines.count("BEGIN:VTIMEZONE") == 1

    theirs = _lines(person_calendar_ics(personas.outsider, now=now))
    assert [line for line in theirs if line.startswith("SUMMARY:")] == ["SUMMARY:Theirs"]


def test_an_empty_feed_is_still_a_valid_calendar(settings) -> None:
    settings.TIME_ZONE = "Europe/Ljubljana"
    lines = _lines(person_calendar_ics(UserFactory(username="newcomer")))
    assert _components(lines) == ["VCALENDAR", "VTIMEZONE", "DAYLIGHT", "STANDARD"]
