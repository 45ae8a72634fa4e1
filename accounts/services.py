"""Writes for people, boards and memberships (house style: services own writes)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Board, Membership, User


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    is_service_account: bool = False,
) -> User:
    """Create a person or service account. A None password leaves the account unable to log in."""
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_service_account=is_service_account,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def board_create(*, name: str, institution: str = "") -> Board:
    board = Board(name=name, institution=institution)
    board.full_clean()
    board.save()
    return board


@transaction.atomic
def membership_create(
    *,
    user: User,
    board: Board,
    discipline: str = "",
    is_chair: bool = False,
    is_coordinator: bool = False,
) -> Membership:
    """Add a person to a board with a discipline and/or functions.

    Service accounts always become read-only members (they cannot hold a role); people never do.
    Raises ValidationError when the combination breaks a membership rule (see Membership).
    """
    membership = Membership(
        user=user,
        board=board,
        discipline=discipline,
        is_chair=is_chair,
        is_coordinator=is_coordinator,
        is_read_only=user.is_service_account,
    )
    membership.full_clean()
    membership.save()
    return membership
