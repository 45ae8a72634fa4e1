"""People, boards and memberships.

A board is one institution's spine tumour board. A membership gives a person, on that board, at
most one discipline (the NOMS section they own) and any of the functions chair and coordinator.
Service accounts for REST clients are read-only members: no discipline, no function.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    """A person or a service account. Custom from the first migration, so it can grow."""

    is_service_account = models.BooleanField(
        default=False,
        help_text="A REST client, not a person: read-only on every board it belongs to.",
    )

    # Password hashes and login times are not clinical history.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def active_board_ids(self) -> list[int]:
        """Ids of the boards this user is an active member of: one small query, asked afresh.

        Board-scoped reads filter on `board_id IN (these ids)` rather than joining through the
        memberships: the same rows, but the join through memberships and boards made PostgreSQL
        plan a case list page for 14 ms against 1.7 ms for the list of ids (bench/README.md).
        """
        # order_by(): the memberships' default ordering would join boards and users to sort ids.
        return list(Membership.objects.active().filter(user=self).order_by().values_list("board_id", flat=True))


class Discipline(models.TextChoices):
    """The four NOMS sections' owners (section codes are in cases.Section)."""

    ONCOLOGIST = "oncologist", "Oncologist"
    SURGEON = "surgeon", "Spine surgeon"
    RADIOLOGIST = "radiologist", "Radiologist"
    PAIN_SPECIALIST = "pain_specialist", "Pain specialist"


class Role(models.TextChoices):
    """Every role code the API reports (`GET /api/v1/boards/`): disciplines, functions, service."""

    ONCOLOGIST = "oncologist", "Oncologist"
    SURGEON = "surgeon", "Spine surgeon"
    RADIOLOGIST = "radiologist", "Radiologist"
    PAIN_SPECIALIST = "pain_specialist", "Pain specialist"
    CHAIR = "chair", "Chair"
    COORDINATOR = "coordinator", "Coordinator"
    SERVICE = "service", "Service account (read-only)"


class BoardQuerySet(models.QuerySet["Board"]):
    def for_user(self, user: User) -> BoardQuerySet:
        """Boards the user belongs to. Visibility of everything board-scoped starts here."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__is_active=True).distinct()


class Board(models.Model):
    name = models.CharField(max_length=200, unique=True)
    institution = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects: ClassVar[BoardQuerySet] = BoardQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True)


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="memberships")
    discipline = models.CharField(max_length=20, choices=Discipline.choices, blank=True)
    is_chair = models.BooleanField(default=False, help_text="Runs meetings and records decisions.")
    is_coordinator = models.BooleanField(default=False, help_text="Registers cases and manages meetings.")
    is_read_only = models.BooleanField(default=False, help_text="Service account: reads, never writes.")
    # Leaving a board ends the membership; rows are kept so history keeps its meaning.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects: ClassVar[MembershipQuerySet] = MembershipQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["board__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "board"], name="membership_one_per_user_and_board"),
            models.CheckConstraint(
                condition=Q(is_read_only=False) | Q(discipline="", is_chair=False, is_coordinator=False),
                name="membership_read_only_holds_no_role",
                violation_error_message="A read-only (service) membership holds no discipline and no function.",
            ),
            models.CheckConstraint(
                condition=~Q(discipline="") | Q(is_chair=True) | Q(is_coordinator=True) | Q(is_read_only=True),
                name="membership_has_a_role",
                violation_error_message="A membership needs a discipline, a function or read-only access.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.board}: {', '.join(self.roles)}"

    def clean(self) -> None:
        if self.user_id is None:
            return
        if self.user.is_service_account and not self.is_read_only:
            raise ValidationError({"is_read_only": "A service account can only be a read-only member."})
        if self.is_read_only and not self.user.is_service_account:
            raise ValidationError({"is_read_only": "Only service accounts are read-only members."})

    @property
    def roles(self) -> list[str]:
        """Role codes in a fixed order: discipline first, then functions."""
        roles: list[str] = []
        if self.discipline:
            roles.append(self.discipline)
        if self.is_chair:
            roles.append(Role.CHAIR)
        if self.is_coordinator:
            roles.append(Role.COORDINATOR)
        if self.is_read_only:
            roles.append(Role.SERVICE)
        return [str(r) for r in roles]

    @property
    def can_write(self) -> bool:
        return self.is_active and not self.is_read_only
