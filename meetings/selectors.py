"""Reads of meetings and decisions, scoped to the asking user (not visible means 404)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import Membership, User
from meetings.models import AgendaItem, CalendarSubscription, Decision, DecisionRecord, Meeting


def meeting_list_for_user(*, user: User) -> QuerySet[Meeting]:
    return (
        Meeting.objects.visible_to(user)
        .select_related("chair")
        .prefetch_related(
            Prefetch("agenda_items", queryset=AgendaItem.objects.only("meeting_id", "allotted_minutes", "state"))
        )
        .order_by("starts_at", "id")
    )


def meeting_get_for_user(*, user: User, meeting_id: int) -> Meeting:
    meeting = meeting_list_for_user(user=user).filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404("No meeting with this id on your boards.")
    return meeting


def agenda_for_meeting(*, meeting: Meeting) -> QuerySet[AgendaItem]:
    # A fresh query: the meeting may come with a trimmed prefetch of its items (for used minutes).
    return AgendaItem.objects.filter(meeting=meeting).select_related("case__patient").order_by("order", "id")


def decision_feed_for_user(*, user: User) -> QuerySet[Decision]:
    """Published (finalised at least once) decisions of the user's boards, in feed order."""
    return (
        Decision.objects.visible_to(user)
        .filter(feed_seq__isnull=False)
        .select_related("case", "finalised_by")
        .prefetch_related(Prefetch("records", queryset=DecisionRecord.objects.order_by("version")))
        .order_by("feed_seq")
    )


def decision_get_for_user(*, user: User, decision_id: int) -> Decision:
    """A decision of the user's boards. A draft never finalised is the chair's working copy: to
    everyone else it does not exist yet (404), here and for its records."""
    decision = (
        Decision.objects.visible_to(user)
        .select_related("case", "meeting", "finalised_by")
        .prefetch_related("records")
        .filter(pk=decision_id)
        .first()
    )
    if decision is None:
        raise Http404("No decision with this id on your boards.")
    if decision.feed_seq is None and not is_chair(membership_on(user=user, board_id=decision.case.board_id)):
        raise Http404("This decision has not been finalised yet.")
    return decision


def membership_on(*, user: User, board_id: int) -> Membership | None:
    return Membership.objects.active().filter(user=user, board_id=board_id).first()


def can_run_meetings(membership: Membership | None) -> bool:
    """Coordinators and chairs write meetings, agendas and attendance."""
    return bool(membership and membership.can_write and (membership.is_coordinator or membership.is_chair))


def is_chair(membership: Membership | None) -> bool:
    return bool(membership and membership.can_write and membership.is_chair)


def calendar_subscriber(*, key: str) -> User | None:
    """The active person whose calendar feed `key` opens, or None (unknown, replaced or ended)."""
    subscription = (
        CalendarSubscription.objects.filter(key_digest=CalendarSubscription.digest(key), user__is_active=True)
        .select_related("user")
        .first()
    )
    return subscription.user if subscription else None


def calendar_subscription_of(*, user: User) -> CalendarSubscription | None:
    return CalendarSubscription.objects.filter(user=user).first()
