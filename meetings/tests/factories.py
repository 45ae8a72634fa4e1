"""factory_boy factories for meetings (users and boards come from tests/factories.py)."""

from __future__ import annotations

from datetime import date, time, timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from meetings.models import Meeting, MeetingSeries
from tests.factories import BoardFactory


class MeetingSeriesFactory(DjangoModelFactory[MeetingSeries]):
    class Meta:
        model = MeetingSeries

    board = factory.SubFactory(BoardFactory)
    title = "Spine tumour board"
    weekday = MeetingSeries.Weekday.TUESDAY
    start_time = time(15, 0)
    time_zone = "Europe/Ljubljana"
    duration_minutes = 90
    place = "Room 3, Oncology Institute"
    video_link = "https://video.example.org/spine-mdt"
    capacity_minutes = 60
    minutes_per_case = 10
    starts_on = date(2027, 1, 1)
    skip_dates = factory.LazyFunction(list)


class MeetingFactory(DjangoModelFactory[Meeting]):
    class Meta:
        model = Meeting

    board = factory.SubFactory(BoardFactory)
    title = "Spine tumour board"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    time_zone = "Europe/Ljubljana"
    duration_minutes = 90
    capacity_minutes = 60
    minutes_per_case = 10
