"""The agenda e-mail: sent to every member of the board once, a configurable lead time before the
meeting, listing each case with what is still missing and from whom, so the missing specialist
can finish the section in time (issue 6).

The meeting row is the job (house style 7): a run claims a due meeting with SELECT ... FOR UPDATE
SKIP LOCKED and sets agenda_sent_at in the same transaction as it sends, so concurrent or repeated
runs never send an agenda twice; a run that fails to send rolls back and the next run retries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from cases.readiness import COORDINATOR, case_missing
from cases.vocabulary import SECTION_OWNER, Discipline, Urgency
from meetings.models import AgendaItem, Meeting
from meetings.scheduling import meeting_label

logger = logging.getLogger(__name__)

DEFAULT_LEAD_TIME_HOURS = 48


def agenda_lead_time() -> timedelta:
    return timedelta(hours=getattr(settings, "AGENDA_LEAD_TIME_HOURS", DEFAULT_LEAD_TIME_HOURS))


def _owner_label(owner: str, members: Sequence[Membership]) -> str:
    """'Radiology (Ana Novak)': the section, and the members who owe it, by name."""
    if owner == COORDINATOR:
        label, people = "Coordinator", [m for m in members if m.is_coordinator]
    else:
        label = Discipline(owner).label
        people = [m for m in members if m.discipline == SECTION_OWNER[owner]]
    names = ", ".join(m.user.display_name for m in people)
    return f"{label} ({names})" if names else label


def agenda_text(meeting: Meeting, items: Sequence[AgendaItem], members: Sequence[Membership]) -> str:
    """The plain-text agenda. Readiness is judged on the meeting's local date, so a whole-spine
    MRI that will be too old by then is listed as missing now, while it can still be repeated."""
    zone = ZoneInfo(meeting.time_zone)
    local = meeting.starts_at.astimezone(zone)
    lines = [
        f"Agenda of {meeting.title}",
        f"When: {local:%A %d %B %Y, %H:%M} ({meeting.time_zone}), {meeting.duration_minutes} minutes",
    ]
    if meeting.place:
        lines.append(f"Where: {meeting.place}")
    if meeting.video_link:
        lines.append(f"Video: {meeting.video_link}")
    lines.append("")
    if not items:
        lines.append("No cases are on the agenda yet.")
    incomplete = 0
    for item in items:
        case = item.case
        lines.append(
            f"{item.order}. {case.patient.name} ({case.patient.mrn}), case {case.pk}, "
            f"{Urgency(case.urgency).label.lower()}, {item.allotted_minutes} min"
        )
        missing = case_missing(case, today=local.date())
        if missing:
            incomplete += 1
            for entry in missing:
                lines.append(f"   Missing from {_owner_label(entry.owner, members)}: {entry.message}")
        else:
            lines.append("   Complete.")
    if incomplete:
        lines += ["", f"{incomplete} case(s) are incomplete: please finish your sections before the meeting."]
    return "\n".join(lines) + "\n"


def agenda_send(*, meeting_id: int, now: datetime | None = None) -> bool:
    """Send the meeting's agenda to each active member with an e-mail address (service accounts
    excluded), one message each, and set agenda_sent_at. Returns False, sending nothing, when the
    meeting is already sent, is not planned, or is being sent by another run (row locked).

    Sending happens inside the transaction that claims the row: if the mail server fails, the
    claim rolls back and the next run retries (a member may then get the agenda a second time,
    which beats not getting it at all).
    """
    now = now or timezone.now()
    with transaction.atomic():
        meeting = (
            Meeting.objects.select_for_update(skip_locked=True)
            .filter(pk=meeting_id, agenda_sent_at__isnull=True, status=Meeting.Status.PLANNED)
            .first()
        )
        if meeting is None:
            return False
        items = list(
            AgendaItem.objects.filter(meeting=meeting, state=AgendaItem.State.PLANNED)
            .select_related("case__patient", "case__radiology", "case__surgery", "case__oncology", "case__pain")
            .order_by("order", "pk")
        )
        members = list(
            Membership.objects.active()
            .filter(board_id=meeting.board_id, is_read_only=False)
            .exclude(user__email="")
            .select_related("user")
            .order_by("user__username")
        )
        body = agenda_text(meeting, items, members)
        subject = f"Agenda: {meeting_label(meeting)}"
        messages = [EmailMessage(subject, body, to=[m.user.email]) for m in members]
        get_connection().send_messages(messages)
        meeting.agenda_sent_at = now
        meeting._change_reason = f"agenda sent to {len(messages)} member(s)"  # type: ignore[attr-defined]
        meeting.save(update_fields=["agenda_sent_at", "updated_at"])
    logger.info("Agenda of meeting %s sent to %d member(s)", meeting.pk, len(messages))
    return True


def agendas_send_due(*, now: datetime | None = None) -> list[int]:
    """Send every planned meeting's agenda that is due: the meeting starts within the lead time
    (AGENDA_LEAD_TIME_HOURS, default 48) and its agenda was not sent. Each meeting is its own
    transaction, so one failing mail does not hold back the others. Returns the meetings sent."""
    now = now or timezone.now()
    due = Meeting.objects.filter(
        status=Meeting.Status.PLANNED,
        agenda_sent_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + agenda_lead_time(),
    ).order_by("starts_at", "pk")
    sent: list[int] = []
    for meeting_id in list(due.values_list("pk", flat=True)):
        try:
            if agenda_send(meeting_id=meeting_id, now=now):
                sent.append(meeting_id)
        except OSError:  # SMTP and socket errors: the meeting stays due and the next run retries
            logger.exception("Agenda of meeting %s could not be sent", meeting_id)
    return sent
