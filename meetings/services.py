"""Writes for attendance and decisions (issue 6), the creation of decision records (issue 7), and
people's calendar subscriptions.

Finalising a decision is one transaction: quorum and content checks, the signature (the chair's
password re-entered), the feed position, the case moving to `discussed`, and a `pending`
DecisionRecord whose rendering task is enqueued on commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, User
from accounts.otp import otp_enrolled, otp_verify
from accounts.reauth import SIGNATURE_PASSWORD_MISMATCH
from cases.lifecycle import check_transition
from cases.models import Case
from cases.vocabulary import CaseStatus
from common.errors import Conflict, StaleVersion
from common.history import stamp
from meetings.models import (
    AgendaItem,
    Attendance,
    CalendarSubscription,
    Decision,
    DecisionRecord,
    FeedSequence,
    Meeting,
)
from meetings.quorum import REQUIRED_ROLES, meeting_quorum
from meetings.snapshot import decision_snapshot
from scoring.models import Recommendation

ATTENDANCE_ROLES = REQUIRED_ROLES


def _mark_started(meeting: Meeting, *, by: User | None, what: str, now: datetime) -> None:
    """A planned meeting whose start time has passed is `in_progress` from the first attendance or
    decision recorded at it (the close sweep later closes it; meetings.scheduling.meeting_close).
    Before its start time, or in any other status, nothing changes. Call inside the transaction."""
    if meeting.status != Meeting.Status.PLANNED or meeting.starts_at > now:
        return
    started = Meeting.objects.select_for_update().filter(pk=meeting.pk, status=Meeting.Status.PLANNED).first()
    if started is None:
        return
    started.status = Meeting.Status.IN_PROGRESS
    stamp(started, f"started: {what} recorded", by)
    started.save(update_fields=["status", "updated_at"])
    meeting.status = started.status  # the caller's copy too: its next attendance row needs no lock


@transaction.atomic
def attendance_record(
    *, meeting: Meeting, user: User, role: str, present: bool, now: datetime | None = None, by: User | None = None
) -> Attendance:
    """Mark a board member present (or absent) in a role they hold on the meeting's board. The first
    person marked present once the start time has passed starts the meeting (`in_progress`, history
    naming `by`, who recorded it)."""
    membership = Membership.objects.active().filter(board_id=meeting.board_id, user=user).first()
    if membership is None:
        raise ValidationError({"user": "This person is not a member of the meeting's board."})
    allowed = {r for r in membership.roles if r in ATTENDANCE_ROLES}
    if role not in allowed:
        raise ValidationError(
            {
                "role": f"{user.display_name} cannot attend as {role}; their roles: {', '.join(sorted(allowed)) or 'none'}."
            }
        )
    now = now or timezone.now()
    attendance, _ = Attendance.objects.update_or_create(
        meeting=meeting, user=user, defaults={"role": role, "present": present, "recorded_at": now}
    )
    if present:
        _mark_started(meeting, by=by, what="attendance", now=now)
    return attendance


PLAN_KEYS = ("radiation", "surgery", "systemic", "steroids", "bone_targeted_agent", "palliative_care", "work_up")


@transaction.atomic
def decision_save(
    *,
    case: Case,
    meeting: Meeting,
    by: User,
    fields: Mapping[str, Any],
    expected_version: int | None = None,
) -> Decision:
    """Create or change the draft decision on a case at a meeting (fields already validated).

    A finalised decision is not edited: it must be reopened (amendment) first.
    """
    if meeting.board_id != case.board_id:
        raise ValidationError({"meeting": "The meeting belongs to another board."})
    decision = Decision.objects.select_for_update().filter(case=case, meeting=meeting).first()
    if decision is None:
        decision = Decision(case=case, meeting=meeting, created_by=by)
        decision.recommendation = Recommendation.objects.filter(case=case).order_by("-computed_at", "-id").first()
    else:
        # `expected_version` is the revision the editor read (the decision's ETag).
        if expected_version is not None and expected_version != decision.revision:
            raise StaleVersion(expected=expected_version, current=decision.revision)
        if decision.state == Decision.State.FINALISED:
            raise Conflict("This decision is finalised. Reopen it, with a reason, to amend it.")
        decision.revision += 1
    for name, value in fields.items():
        setattr(decision, name, value)
    decision.full_clean(exclude=["recommendation"])
    stamp(decision, "decision drafted", by)
    decision.save()
    _mark_started(meeting, by=by, what="a decision", now=timezone.now())
    return decision


def _check_content(decision: Decision) -> None:
    errors: dict[str, str] = {}
    if not decision.plan:
        errors["plan"] = "Record the plan before finalising."
    if not decision.rationale.strip():
        errors["rationale"] = "Record the board's rationale before finalising."
    if decision.follows_recommendation is None:
        errors["follows_recommendation"] = "Say whether the decision follows the NOMS proposal."
    elif decision.follows_recommendation is False and not decision.deviation_reason.strip():
        errors["deviation_reason"] = "The decision deviates from the proposal: record why (clinical safety rule)."
    if errors:
        raise ValidationError(errors)


def _next_feed_seq() -> int:
    """The next decision feed position, under a global row lock: feed order is commit order."""
    sequence, _ = FeedSequence.objects.select_for_update().get_or_create(pk=1)
    sequence.value += 1
    sequence.save(update_fields=["value"])
    return sequence.value


@transaction.atomic
def decision_finalise(
    *,
    decision: Decision,
    by: User,
    password: str,
    expected_version: int,
    otp: str = "",
    now: datetime | None = None,
) -> DecisionRecord:
    """The chair signs the decision: it becomes the board's decision and a record version is made.

    Preconditions: `by` chairs the board; the password is theirs, and so is the authenticator code
    when they have one (signature manifestation, issue 7);
    the meeting has quorum; plan, rationale and the follows/deviation answer are recorded.
    Side effects: the case goes to `discussed` (first finalisation), its agenda item to `presented`,
    the decision gets a feed position, and a pending DecisionRecord is created whose rendering
    (`meetings.render_decision_record`) is enqueued on commit.
    """
    from meetings.tasks_records import render_decision_record

    now = now or timezone.now()
    decision = Decision.objects.select_for_update(of=("self",)).select_related("case", "meeting").get(pk=decision.pk)
    if decision.version != expected_version:
        raise StaleVersion(expected=expected_version, current=decision.version)
    if decision.state == Decision.State.FINALISED:
        raise Conflict("This decision is already finalised.")
    membership = Membership.objects.active().filter(board_id=decision.case.board_id, user=by, is_chair=True).first()
    if membership is None:
        raise ValidationError({"non_field_errors": "Only the board's chair finalises decisions."})
    if not by.check_password(password):
        raise ValidationError({"password": SIGNATURE_PASSWORD_MISMATCH})
    # The signature asks for the second factor too, wherever the chair has one (issue 7).
    if otp_enrolled(by) and otp_verify(user=by, token=otp) is None:
        raise ValidationError({"otp": "Enter the current code of your authenticator app (or a recovery code) to sign."})
    if decision.meeting is not None:
        quorum = meeting_quorum(decision.meeting)
        if not quorum.reached:
            raise ValidationError({"non_field_errors": quorum.message})
    _check_content(decision)

    previous = decision.records.order_by("-version").first()
    amending = decision.state == Decision.State.REOPENED
    if amending:
        decision.version += 1
    decision.state = Decision.State.FINALISED
    decision.finalised_by = by
    decision.finalised_at = now
    decision.published_at = now
    decision.feed_seq = _next_feed_seq()
    decision.revision += 1
    stamp(decision, "decision amended and finalised" if amending else "decision finalised", by)
    decision.save()

    case = Case.objects.select_for_update().get(pk=decision.case_id)
    if case.status != CaseStatus.DISCUSSED:
        check_transition(case.status, CaseStatus.DISCUSSED)
        case.status = CaseStatus.DISCUSSED
        case.version += 1
        stamp(case, "board decision finalised", by)
        case.save(update_fields=["status", "version", "updated_at"])
    if decision.meeting is not None:
        for item in AgendaItem.objects.filter(meeting=decision.meeting, case=case, state=AgendaItem.State.PLANNED):
            item.state = AgendaItem.State.PRESENTED
            stamp(item, "decided", by)
            item.save(update_fields=["state"])

    record = DecisionRecord.objects.create(
        decision=decision,
        version=decision.version,
        snapshot=decision_snapshot(
            decision,
            version=decision.version,
            supersedes_version=previous.version if previous else None,
            amendment_reason=decision.amendment_reason if amending else "",
        ),
        supersedes=previous,
        amendment_reason=decision.amendment_reason if amending else "",
        signer=by,
        signed_at=now,
        created_at=now,
    )
    record_id = record.pk
    # robust: a broker outage at commit must not turn a committed signature into an error; the
    # sweep renders the pending record.
    transaction.on_commit(lambda: render_decision_record.delay(record_id), robust=True)
    return record


@transaction.atomic
def decision_reopen(*, decision: Decision, by: User, reason: str, expected_version: int) -> Decision:
    """The chair reopens a finalised decision to amend it; the reason goes on the next record."""
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.version != expected_version:
        raise StaleVersion(expected=expected_version, current=decision.version)
    if decision.state != Decision.State.FINALISED:
        raise Conflict("Only a finalised decision can be reopened for amendment.")
    if not Membership.objects.active().filter(board_id=decision.case.board_id, user=by, is_chair=True).exists():
        raise ValidationError({"non_field_errors": "Only the board's chair amends decisions."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the decision is amended."})
    decision.state = Decision.State.REOPENED
    decision.amendment_reason = reason
    decision.revision += 1
    stamp(decision, f"reopened for amendment: {reason}", by)
    decision.save(update_fields=["state", "amendment_reason", "revision", "updated_at"])
    return decision


def decision_plan_recorded_at(case: Case) -> datetime | None:
    """When the board first recorded a decision on the case (spec 6.4: the plan sub-target stops)."""
    first = Decision.objects.filter(case=case, finalised_at__isnull=False).order_by("finalised_at").first()
    return first.finalised_at if first else None


@transaction.atomic
def meeting_create(
    *,
    by: User,
    board: Any,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    capacity_minutes: int,
    minutes_per_case: int,
    place: str = "",
    video_link: str = "",
    is_ad_hoc: bool = False,
    time_zone: str | None = None,
) -> Meeting:
    """A single meeting (e.g. an ad hoc one for urgent cases); series generate their own."""
    from django.conf import settings

    meeting = Meeting(
        board=board,
        title=title,
        starts_at=starts_at,
        time_zone=time_zone or settings.TIME_ZONE,
        duration_minutes=duration_minutes,
        capacity_minutes=capacity_minutes,
        minutes_per_case=minutes_per_case,
        place=place,
        video_link=video_link,
        is_ad_hoc=is_ad_hoc,
    )
    meeting.full_clean()
    stamp(meeting, "meeting created", by)
    meeting.save()
    return meeting


@transaction.atomic
def calendar_subscription_renew(*, user: User, now: datetime | None = None) -> str:
    """A new secret key for the person's calendar feed; the previous key (if any) stops working.

    Returns the key, which is not stored (only its digest is): the caller shows it once.
    """
    key = secrets.token_urlsafe(32)
    CalendarSubscription.objects.update_or_create(
        user=user, defaults={"key_digest": CalendarSubscription.digest(key), "created_at": now or timezone.now()}
    )
    return key


def calendar_subscription_end(*, user: User) -> None:
    """Turn the person's calendar feed address off (nothing to do when there is none)."""
    CalendarSubscription.objects.filter(user=user).delete()
