"""seed_demo's meetings (api-contract "Demo data"): a weekly series with a scheduled agenda and a
finalised decision with a ready record; idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from meetings.models import AgendaItem, Decision, DecisionRecord, Meeting, MeetingSeries


@pytest.mark.django_db(transaction=True)
def test_demo_meetings_twice(capsys):
    call_command("seed_demo")
    first = (
        MeetingSeries.objects.count(),
        Meeting.objects.count(),
        AgendaItem.objects.count(),
        Decision.objects.count(),
    )
    call_command("seed_demo")
    assert (
        MeetingSeries.objects.count(),
        Meeting.objects.count(),
        AgendaItem.objects.count(),
        Decision.objects.count(),
    ) == first
    series = MeetingSeries.objects.get()
    assert (series.get_weekday_display(), series.start_time.strftime("%H:%M"), series.time_zone) == (
        "Tuesday",
        "15:00",
        "Europe/Ljubljana",
    )
    weekly = series.meetings.order_by("starts_at").first()
    assert weekly.agenda_items.filter(state="planned").exists()
    decision = Decision.objects.get()
    assert (decision.state, decision.case.patient.mrn, decision.case.status) == ("finalised", "MRN-1002", "discussed")
    record = DecisionRecord.objects.get()
    assert record.state == "ready" and len(record.sha256) == 64
    out = capsys.readouterr().out
    assert "ready records: 1" in out and "Spine MDT weekly" in out
