"""The agenda e-mail (issue 6): sent once to each member within the lead time, listing what is
missing for each case and from whom."""

from __future__ import annotations

from datetime import date, timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from cases.models import OncologySection, PainSection, RadiologySection, SurgerySection
from meetings.models import Meeting
from meetings.notifications import agenda_send, agendas_send_due
from meetings.scheduling import agenda_place
from meetings.tasks import send_due_agendas

pytestmark = pytest.mark.django_db

MEMBERS = ["chair", "coordinator", "oncologist", "pain", "radiologist", "surgeon"]


def _complete(case, *, mri_days_ago: int = 5) -> None:
    """Fill the minimum dataset and submit all four sections (directly: this is about the e-mail)."""
    RadiologySection.objects.filter(case=case).update(
        state="submitted", whole_spine_imaging_at=timezone.now() - timedelta(days=mri_days_ago)
    )
    OncologySection.objects.filter(case=case).update(
        state="submitted", primary="breast", histology_detail="invasive ductal", kps=70, expected_survival_months=24
    )
    SurgerySection.objects.filter(case=case).update(state="submitted")
    PainSection.objects.filter(case=case).update(state="submitted")


@pytest.fixture
def due_meeting(meeting, ready_case, personas):
    """A meeting tomorrow with two cases: one complete, one missing radiology and oncology items."""
    m = meeting(days=1, place="Room 3, Oncology Institute")
    complete = ready_case(
        patient={"mrn": "MRN-A", "name": "Ana Complete", "birth_date": date(1950, 1, 1), "sex": "female"}
    )
    _complete(complete)
    incomplete = ready_case(
        "urgent", patient={"mrn": "MRN-B", "name": "Bor Missing", "birth_date": date(1955, 5, 5), "sex": "male"}
    )
    _complete(incomplete)
    RadiologySection.objects.filter(case=incomplete).update(whole_spine_imaging_at=None)
    OncologySection.objects.filter(case=incomplete).update(state="draft", kps=None)
    agenda_place(case=complete, meeting=m, by=personas.coordinator)
    agenda_place(case=incomplete, meeting=m, by=personas.coordinator)
    return m


def test_each_member_gets_the_agenda_once_with_what_is_missing_from_whom(due_meeting, personas):
    assert agendas_send_due() == [due_meeting.pk]

    assert sorted(message.to[0] for message in mail.outbox) == [f"{u}@example.org" for u in MEMBERS]
    assert all(len(message.to) == 1 for message in mail.outbox)
    body = mail.outbox[0].body
    assert mail.outbox[0].subject.startswith("Agenda: Spine tumour board, ")
    assert "Where: Room 3, Oncology Institute" in body
    assert "1. Ana Complete (MRN-A)" in body and ", routine, 10 min\n   Complete." in body
    assert "2. Bor Missing (MRN-B)" in body and ", urgent, 10 min" in body
    radiologist, oncologist = personas.radiologist.display_name, personas.oncologist.display_name
    assert f"   Missing from Radiology ({radiologist}): date of the whole-spine MRI" in body
    assert (
        f"   Missing from Oncology (oncologic and systemic) ({oncologist}): Oncology (oncologic and systemic) section not submitted"
        in body
    )
    assert f"   Missing from Oncology (oncologic and systemic) ({oncologist}): performance status (KPS or ECOG)" in body
    assert "1 case(s) are incomplete" in body
    due_meeting.refresh_from_db()
    assert due_meeting.agenda_sent_at is not None

    # Re-running, or sending this meeting again, sends nothing twice.
    assert agendas_send_due() == []
    assert agenda_send(meeting_id=due_meeting.pk) is False
    assert len(mail.outbox) == len(MEMBERS)


def test_outsiders_service_accounts_and_former_members_get_nothing(due_meeting, personas):
    personas.chair.memberships.update(is_active=False)
    agendas_send_due()
    recipients = {message.to[0] for message in mail.outbox}
    assert "outsider@example.org" not in recipients and "service@example.org" not in recipients
    assert "chair@example.org" not in recipients


def test_only_meetings_within_the_lead_time_are_sent(meeting, settings):
    in_three_days = meeting(days=3)
    meeting(days=1, status=Meeting.Status.CANCELLED)
    assert agendas_send_due() == []
    settings.AGENDA_LEAD_TIME_HOURS = 80
    assert send_due_agendas() == [in_three_days.pk]
    assert "No cases are on the agenda yet." in mail.outbox[0].body


def test_an_mri_too_old_by_the_meeting_date_is_listed_now(meeting, ready_case, personas, settings):
    settings.READINESS_MRI_MAX_AGE_DAYS = 30
    m = meeting(days=2)
    case = ready_case()
    _complete(case, mri_days_ago=29)
    agenda_place(case=case, meeting=m, by=personas.coordinator)
    agendas_send_due()
    assert "is older than 30 days: a current one is needed" in mail.outbox[0].body


def test_a_mail_server_failure_leaves_the_meeting_due_for_the_next_run(due_meeting, monkeypatch):
    def refuse(self, messages):
        raise SMTPException("421 try again later")

    with monkeypatch.context() as patched:
        patched.setattr(EmailBackend, "send_messages", refuse)
        assert agendas_send_due() == []
    due_meeting.refresh_from_db()
    assert due_meeting.agenda_sent_at is None
    assert agendas_send_due() == [due_meeting.pk]
    assert len(mail.outbox) == len(MEMBERS)
