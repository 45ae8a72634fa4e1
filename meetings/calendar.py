"""iCalendar (RFC 5545) text for a meeting, a meeting series and a person's feed of meetings.

Written by hand (no dependency): CRLF line endings, lines folded at 75 octets without splitting a
UTF-8 character, TEXT values escaped, a UID and DTSTAMP on every event. Times are local with a
TZID and a VTIMEZONE built from the IANA zone, so a "Tuesday 15:00" series stays 15:00 local time
across daylight-saving changes in every client.

Calendars are often synchronised to third-party services, so they carry no patient data: only
the meeting's title, board, time, place and video link.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from meetings.models import Meeting, MeetingSeries
from meetings.series import series_occurrence_at, series_skip_dates

PRODID = "-//tumourboard//meetings//EN"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into lines of at most 75 octets (RFC 5545 3.1); each continuation
    starts with one space, which counts toward its 75. A UTF-8 character is never split."""
    chunks: list[str] = []
    current: list[str] = []
    size, limit = 0, MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            chunks.append("".join(current))
            current, size, limit = [], 0, MAX_LINE_OCTETS - 1
        current.append(char)
        size += width
    chunks.append("".join(current))
    return "\r\n ".join(chunks)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _uid(kind: str, pk: int) -> str:
    return f"{kind}-{pk}@{getattr(settings, 'CALENDAR_UID_DOMAIN', 'tumourboard')}"


# --- VTIMEZONE from zoneinfo --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Transition:
    at: datetime  # UTC instant
    offset_from: timedelta
    offset_to: timedelta
    name: str
    is_dst: bool

    @property
    def onset(self) -> datetime:
        """Local wall-clock time of the change, in the offset in force before it (RFC 5545 3.6.5)."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    def rule(self) -> tuple[object, ...]:
        """What a yearly RRULE repeats: same offsets and name, month, weekday, week and time."""
        onset = self.onset
        last_week = onset.day + 7 > calendar.monthrange(onset.year, onset.month)[1]
        week = -1 if last_week else (onset.day - 1) // 7 + 1
        return (
            self.is_dst,
            self.offset_from,
            self.offset_to,
            self.name,
            onset.month,
            onset.weekday(),
            week,
            onset.time(),
        )


def _transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[_Transition]:
    """Offset changes from 1 January of first_year to the end of last_year: a daily scan, then a
    bisection to the second (zoneinfo does not expose its transition table)."""
    found: list[_Transition] = []
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)
    while moment < end:
        before, after = moment.astimezone(zone).utcoffset(), (moment + step).astimezone(zone).utcoffset()
        if before != after:
            low, high = moment, moment + step  # offset(low) == before, offset(high) == after
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            local = high.astimezone(zone)
            found.append(
                _Transition(
                    at=high,
                    offset_from=before or timedelta(0),
                    offset_to=after or timedelta(0),
                    name=local.tzname() or "",
                    is_dst=bool(local.dst()),
                )
            )
        moment += step
    return found


def vtimezone(tzid: str, first_year: int, last_year: int) -> list[str]:
    """A VTIMEZONE valid for first_year..last_year and beyond: consecutive yearly changes that
    follow one rule become one observance with an RRULE (open-ended when the rule is still in force
    at the end of the range, so recurring events stay correct in later years)."""
    zone = ZoneInfo(tzid)
    # From the year before: the observance in force on 1 January is then defined too.
    transitions = _transitions(zone, first_year - 1, max(last_year, first_year + 1))
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    if not transitions:
        moment = datetime(first_year, 1, 1, tzinfo=UTC).astimezone(zone)
        offset = _offset(moment.utcoffset() or timedelta(0))
        lines += [
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}",
            f"TZNAME:{escape_text(moment.tzname() or tzid)}",
            "END:STANDARD",
        ]
        return [*lines, "END:VTIMEZONE"]
    groups: list[list[_Transition]] = []
    for transition in transitions:
        for group in groups:
            if group[-1].rule() == transition.rule() and group[-1].onset.year + 1 == transition.onset.year:
                group.append(transition)
                break
        else:
            groups.append([transition])
    last_scanned = transitions[-1].onset.year
    for group in sorted(groups, key=lambda g: g[0].at):
        first = group[0]
        kind = "DAYLIGHT" if first.is_dst else "STANDARD"
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{_local(first.onset)}",
            f"TZOFFSETFROM:{_offset(first.offset_from)}",
            f"TZOFFSETTO:{_offset(first.offset_to)}",
            f"TZNAME:{escape_text(first.name)}",
        ]
        if len(group) > 1:
            week = first.rule()[6]
            rrule = f"RRULE:FREQ=YEARLY;BYMONTH={first.onset.month};BYDAY={week}{WEEKDAYS[first.onset.weekday()]}"
            if group[-1].onset.year < last_scanned:  # the rule was replaced within the range
                rrule += f";UNTIL={_utc(group[-1].at)}"
            lines.append(rrule)
        lines.append(f"END:{kind}")
    return [*lines, "END:VTIMEZONE"]


# --- Calendars ----------------------------------------------------------------------------------


def _calendar(events: Sequence[list[str]], zones: dict[str, tuple[int, int]], name: str | None = None) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name:
        # Non-standard but read by the common clients as the subscribed calendar's name.
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for tzid, (first_year, last_year) in sorted(zones.items()):
        lines += vtimezone(tzid, first_year, last_year)
    for event in events:
        lines += event
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _span(zones: dict[str, tuple[int, int]], tzid: str, years: Iterable[int]) -> None:
    years = list(years)
    first, last = zones.get(tzid, (min(years), max(years)))
    zones[tzid] = (min(first, *years), max(last, *years))


def _description(board_name: str, video_link: str) -> str:
    text = f"Tumour board meeting of {board_name}. Agenda and cases are in tumourboard."
    return f"{text}\nVideo: {video_link}" if video_link else text


def _meeting_event(meeting: Meeting, stamp: datetime) -> list[str]:
    zone = ZoneInfo(meeting.time_zone)
    start = meeting.starts_at.astimezone(zone)
    # Aware arithmetic: a meeting spanning a daylight-saving change still lasts duration_minutes.
    end = (meeting.starts_at + timedelta(minutes=meeting.duration_minutes)).astimezone(zone)
    status = "CANCELLED" if meeting.status == Meeting.Status.CANCELLED else "CONFIRMED"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_uid('meeting', meeting.pk)}",
        f"DTSTAMP:{_utc(stamp)}",
        f"SEQUENCE:{meeting.version}",
        f"DTSTART;TZID={meeting.time_zone}:{_local(start)}",
        f"DTEND;TZID={meeting.time_zone}:{_local(end)}",
        f"SUMMARY:{escape_text(meeting.title)}",
        f"DESCRIPTION:{escape_text(_description(meeting.board.name, meeting.video_link))}",
        f"STATUS:{status}",
        f"LAST-MODIFIED:{_utc(meeting.updated_at)}",
    ]
    if meeting.place:
        lines.append(f"LOCATION:{escape_text(meeting.place)}")
    return [*lines, "END:VEVENT"]


def meeting_ics(meeting: Meeting, *, now: datetime | None = None) -> str:
    """One meeting as an iCalendar object (a cancelled meeting has STATUS:CANCELLED)."""
    zones: dict[str, tuple[int, int]] = {}
    _span(zones, meeting.time_zone, [meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone)).year])
    return _calendar([_meeting_event(meeting, now or timezone.now())], zones)


def _first_occurrence(series: MeetingSeries) -> date:
    return series.starts_on + timedelta(days=(series.weekday - series.starts_on.weekday()) % 7)


def series_ics(series: MeetingSeries, *, now: datetime | None = None) -> str:
    """The series as one recurring event: DTSTART (local, TZID) on the first occurrence, a weekly
    RRULE (UNTIL from ends_on), and EXDATEs for the skip dates and the series' cancelled meetings.

    Preconditions: skip_dates are valid dates (ValidationError otherwise). Reads the series'
    cancelled meetings (one query).
    """
    zone = ZoneInfo(series.time_zone)
    first = _first_occurrence(series)
    start = series_occurrence_at(series, first).astimezone(zone)
    rrule = f"RRULE:FREQ=WEEKLY;BYDAY={WEEKDAYS[series.weekday]}"
    if series.ends_on is not None:
        # With a TZID start, UNTIL must be in UTC (RFC 5545 3.3.10); it is inclusive.
        rrule += f";UNTIL={_utc(series_occurrence_at(series, series.ends_on))}"
    excluded = {
        series_occurrence_at(series, day).astimezone(zone)
        for day in series_skip_dates(series)
        if day.weekday() == series.weekday and day >= first and (series.ends_on is None or day <= series.ends_on)
    }
    excluded |= {
        starts_at.astimezone(zone)
        for starts_at in series.meetings.filter(status=Meeting.Status.CANCELLED).values_list("starts_at", flat=True)
    }
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_uid('series', series.pk)}",
        f"DTSTAMP:{_utc(now or timezone.now())}",
        f"DTSTART;TZID={series.time_zone}:{_local(start)}",
        f"DURATION:PT{series.duration_minutes}M",
        rrule,
    ]
    if excluded:
        lines.append(f"EXDATE;TZID={series.time_zone}:{','.join(_local(m) for m in sorted(excluded))}")
    lines += [
        f"SUMMARY:{escape_text(series.title)}",
        f"DESCRIPTION:{escape_text(_description(series.board.name, series.video_link))}",
    ]
    if series.place:
        lines.append(f"LOCATION:{escape_text(series.place)}")
    lines.append("END:VEVENT")
    last_year = series.ends_on.year if series.ends_on else first.year
    zones: dict[str, tuple[int, int]] = {}
    _span(zones, series.time_zone, [first.year, last_year])
    return _calendar([lines], zones)


def person_calendar_ics(user: User, *, now: datetime | None = None) -> str:
    """A person's feed: every meeting of their boards (active memberships) that has not ended,
    cancelled ones included as STATUS:CANCELLED so subscribed clients drop them. One query."""
    now = now or timezone.now()
    # A day back is enough to catch meetings still running now; those already over are left out.
    meetings = [
        m
        for m in Meeting.objects.visible_to(user)
        .filter(starts_at__gte=now - timedelta(days=1))
        .select_related("board")
        .order_by("starts_at", "pk")
        if m.starts_at + timedelta(minutes=m.duration_minutes) > now
    ]
    zones: dict[str, tuple[int, int]] = {}
    for meeting in meetings:
        _span(zones, meeting.time_zone, [meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone)).year])
    if not zones:
        # RFC 5545 wants at least one component: an empty feed carries the site's time zone.
        _span(zones, settings.TIME_ZONE, [now.year])
    return _calendar([_meeting_event(m, now) for m in meetings], zones, name="Tumour board meetings")
