"""Reads for people and boards, scoped to the asking user."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from accounts.models import Board, Membership, User


def board_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Board]:
    """The user's boards, each with `my_memberships` holding the user's own active membership."""
    if not user.is_authenticated:
        return Board.objects.none()
    own = Membership.objects.active().filter(user=user)
    return Board.objects.for_user(user).prefetch_related(
        Prefetch("memberships", queryset=own, to_attr="my_memberships")
    )


def membership_for(*, user: User, board_id: int) -> Membership | None:
    """The user's active membership of a board, or None (then the board is invisible to them)."""
    return Membership.objects.active().filter(user=user, board_id=board_id).select_related("board").first()
