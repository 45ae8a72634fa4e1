"""The demo boards and people of the API contract ("Demo data"), created idempotently."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.db import transaction

from accounts.models import Board, Discipline, Membership, User
from accounts.services import board_create, membership_create, user_create

DEFAULT_DEMO_PASSWORD = "tumourboard-demo"  # noqa: S105 - published demo credential (api-contract.md)
MAIN_BOARD = "Spine MDT"
OTHER_BOARD = "Regional MDT"


@dataclass(frozen=True, slots=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    board: str
    discipline: str = ""
    is_chair: bool = False
    is_coordinator: bool = False
    is_service_account: bool = False


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("oncologist", "Olga", "Kos", MAIN_BOARD, discipline=Discipline.ONCOLOGIST),
    DemoPerson("surgeon", "Simon", "Zupan", MAIN_BOARD, discipline=Discipline.SURGEON),
    DemoPerson("radiologist", "Rada", "Horvat", MAIN_BOARD, discipline=Discipline.RADIOLOGIST),
    DemoPerson("pain", "Petra", "Krajnc", MAIN_BOARD, discipline=Discipline.PAIN_SPECIALIST),
    DemoPerson("chair", "Cene", "Novak", MAIN_BOARD, is_chair=True),
    DemoPerson("coordinator", "Katja", "Vidmar", MAIN_BOARD, is_coordinator=True),
    DemoPerson("service", "Hospital", "Information System", MAIN_BOARD, is_service_account=True),
    DemoPerson("outsider", "Oskar", "Golob", OTHER_BOARD, discipline=Discipline.ONCOLOGIST),
)


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


@transaction.atomic
def seed_people() -> list[Membership]:
    """Create the demo boards, people and memberships that do not exist yet; return all of them."""
    boards: dict[str, Board] = {}
    for name, institution in ((MAIN_BOARD, "University Medical Centre"), (OTHER_BOARD, "Regional Hospital")):
        boards[name] = Board.objects.filter(name=name).first() or board_create(name=name, institution=institution)

    memberships = []
    password = demo_password()
    for person in DEMO_PEOPLE:
        user = User.objects.filter(username=person.username).first() or user_create(
            username=person.username,
            password=password,
            first_name=person.first_name,
            last_name=person.last_name,
            email=f"{person.username}@tumourboard.invalid",
            is_service_account=person.is_service_account,
        )
        board = boards[person.board]
        membership = Membership.objects.filter(user=user, board=board).first() or membership_create(
            user=user,
            board=board,
            discipline=person.discipline,
            is_chair=person.is_chair,
            is_coordinator=person.is_coordinator,
        )
        memberships.append(membership)
    return memberships
