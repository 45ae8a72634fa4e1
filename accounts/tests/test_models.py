"""Membership rules: roles, service accounts, uniqueness; and history of every change."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Board, Membership
from accounts.services import board_create, membership_create, user_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def board() -> Board:
    return board_create(name="Spine MDT", institution="UMC")


def test_discipline_and_function_together(board):
    person = user_create(username="ana", password="a-long-password-1")
    m = membership_create(user=person, board=board, discipline="surgeon", is_chair=True)
    assert m.roles == ["surgeon", "chair"]
    assert m.can_write


def test_membership_needs_a_role(board):
    person = user_create(username="ana", password="a-long-password-1")
    with pytest.raises(ValidationError, match="needs a discipline, a function or read-only access"):
        membership_create(user=person, board=board)


def test_unknown_discipline_is_refused(board):
    person = user_create(username="ana", password="a-long-password-1")
    with pytest.raises(ValidationError) as excinfo:
        membership_create(user=person, board=board, discipline="dermatologist")
    assert "discipline" in excinfo.value.message_dict


def test_service_account_is_read_only_and_holds_no_role(board):
    robot = user_create(username="his", password=None, is_service_account=True)
    m = membership_create(user=robot, board=board)
    assert m.is_read_only and m.roles == ["service"] and not m.can_write
    with pytest.raises(ValidationError, match="read-only"):
        membership_create(user=robot, board=board_create(name="Other"), discipline="surgeon")


def test_person_cannot_be_read_only(board):
    person = user_create(username="ana", password="a-long-password-1")
    m = Membership(user=person, board=board, discipline="surgeon", is_read_only=True)
    with pytest.raises(ValidationError):
        m.full_clean()


def test_database_refuses_read_only_with_a_role_even_past_the_service(board):
    robot = user_create(username="his", password=None, is_service_account=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=robot, board=board, is_read_only=True, is_chair=True)


def test_one_membership_per_user_and_board(board):
    person = user_create(username="ana", password="a-long-password-1")
    membership_create(user=person, board=board, discipline="surgeon")
    with pytest.raises(ValidationError, match="already exists"):
        membership_create(user=person, board=board, is_chair=True)


def test_board_names_are_unique(board):
    with pytest.raises(ValidationError):
        board_create(name="Spine MDT")


def test_changes_are_in_history(board):
    person = user_create(username="ana", password="a-long-password-1")
    m = membership_create(user=person, board=board, discipline="surgeon")
    m.is_chair = True
    m.save(update_fields=["is_chair"])
    assert [h.history_type for h in m.history.order_by("history_id")] == ["+", "~"]
    assert person.history.count() == 1
    assert not hasattr(person.history.first(), "password")


def test_visibility_queryset(board):
    other = board_create(name="Other")
    person = user_create(username="ana", password="a-long-password-1")
    membership_create(user=person, board=board, discipline="surgeon")
    assert list(Board.objects.for_user(person)) == [board]
    assert other not in Board.objects.for_user(person)
