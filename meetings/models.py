"""Board meetings, their recurring series, agendas, attendance and the board's decisions.

Times are stored aware (UTC in the database) with the meeting's IANA time zone beside them, so a
"Tuesday 15:00" series stays 15:00 local time across daylight-saving changes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import Board
from cases.models import Case

USER = settings.AUTH_USER_MODEL


class MeetingSeries(models.Model):
    """A recurring meeting, e.g. every Tuesday 15:00 Europe/Ljubljana, skipping holidays."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="meeting_series")
    title = models.CharField(max_length=200)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Local wall-clock time in the series' time zone.")
    time_zone = models.CharField(max_length=64, default="Europe/Ljubljana")
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(5)])
    place = models.CharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    chair = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    capacity_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    minutes_per_case = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    skip_dates = models.JSONField(default=list, blank=True, help_text="Local dates (YYYY-MM-DD) with no meeting.")
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.title} ({self.get_weekday_display()} {self.start_time:%H:%M} {self.time_zone})"


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def visible_to(self, user: object) -> MeetingQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(board_id__in=user.active_board_ids())  # type: ignore[attr-defined]


class Meeting(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="meetings")
    series = models.ForeignKey(MeetingSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64, default="Europe/Ljubljana")
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(5)])
    place = models.CharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    chair = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    capacity_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    minutes_per_case = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    # An extra meeting the coordinator creates for urgent cases; routine cases are not placed on it.
    is_ad_hoc = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    cancelled_reason = models.TextField(blank=True)
    agenda_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()
    objects: ClassVar[MeetingQuerySet] = MeetingQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            # A series generates each occurrence once, however often generation runs.
            models.UniqueConstraint(fields=["series", "starts_at"], name="meeting_once_per_series_occurrence"),
        ]
        indexes = [models.Index(fields=["board", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def etag(self) -> str:
        return f'"meeting-{self.pk}-v{self.version}"'

    def is_upcoming(self, now: datetime | None = None) -> bool:
        """Planned and not started yet: cases can still be placed on it, and it can be cancelled."""
        return self.status == self.Status.PLANNED and self.starts_at > (now or timezone.now())


class AgendaItem(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        PRESENTED = "presented", "Presented"
        DEFERRED = "deferred", "Deferred"
        WITHDRAWN = "withdrawn", "Withdrawn"

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="agenda_items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="agenda_items")
    order = models.PositiveIntegerField()
    allotted_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    # Placed by a coordinator by hand: the scheduler never moves it.
    is_manual = models.BooleanField(default=False)
    placed_at = models.DateTimeField()
    deferred_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["meeting", "order", "id"]
        constraints = [
            # No case is on two agendas at once (scheduler idempotency, house style 7).
            models.UniqueConstraint(
                fields=["case"], condition=Q(state="planned"), name="agenda_item_one_planned_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} on meeting {self.meeting_id} (#{self.order}, {self.state})"


class Attendance(models.Model):
    """Who came to a meeting and in which role (a discipline or chair)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20)
    present = models.BooleanField(default=True)
    recorded_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="attendance_once_per_person")]

    def __str__(self) -> str:
        return f"{self.user_id} at meeting {self.meeting_id} as {self.role}"


class DecisionQuerySet(models.QuerySet["Decision"]):
    def visible_to(self, user: object) -> DecisionQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(case__board_id__in=user.active_board_ids())  # type: ignore[attr-defined]


class Decision(models.Model):
    """The board's decision on a case: a structured plan, its rationale, and whether it follows
    the NOMS proposal (and why not). Finalised by the chair; amended only by reopening with a reason,
    which produces a new decision record version (meetings.records)."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINALISED = "finalised", "Finalised"
        REOPENED = "reopened", "Reopened for amendment"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    recommendation = models.ForeignKey(
        "scoring.Recommendation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The NOMS proposal the board saw.",
    )
    plan = models.JSONField(default=dict)
    rationale = models.TextField(blank=True)
    follows_recommendation = models.BooleanField(null=True, blank=True)
    deviation_reason = models.TextField(blank=True)
    follow_up_date = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    # The record version the decision is at (1 = first finalisation, 2 = first amendment, ...).
    version = models.PositiveIntegerField(default=1)
    # Increases on every change (draft edits, finalisation, reopening): the ETag for If-Match.
    revision = models.PositiveIntegerField(default=1)
    finalised_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    finalised_at = models.DateTimeField(null=True, blank=True)
    amendment_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set on each finalisation (first or amendment). `feed_seq` is allocated under a global lock
    # (FeedSequence), so feed order equals commit order and a client paging the feed by `feed_seq`
    # never misses a decision that committed late.
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    feed_seq = models.PositiveBigIntegerField(null=True, blank=True, unique=True)

    history = HistoricalRecords()
    objects: ClassVar[DecisionQuerySet] = DecisionQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "meeting"],
                condition=Q(meeting__isnull=False),
                name="decision_once_per_case_and_meeting",
            ),
        ]

    def __str__(self) -> str:
        return f"decision on case {self.case_id} ({self.state}, v{self.version})"

    @property
    def etag(self) -> str:
        return f'"decision-{self.pk}-v{self.revision}"'


class FeedSequence(models.Model):
    """One row: the last decision feed position handed out (see Decision.feed_seq)."""

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"decision feed at {self.value}"


class RecordQuerySet(models.QuerySet["DecisionRecord"]):
    def update(self, **kwargs: object) -> int:
        # Finalised (ready) records are immutable: a bulk update must not reach them either.
        if self.filter(state=DecisionRecord.State.READY).exists():
            raise ImmutableRecordError("A ready decision record cannot be changed; amend the decision instead.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(state=DecisionRecord.State.READY).exists():
            raise ImmutableRecordError("A ready decision record cannot be deleted.")
        return super().delete()


class ImmutableRecordError(Exception):
    """An attempt to change or delete a decision record once its PDF is stored."""


class DecisionRecord(models.Model):
    """One version of the PDF decision record (issue 7). Created `pending` in the transaction that
    finalises the decision, rendered by a task from `snapshot` (the decision as finalised, so a late
    render never shows later data), then `ready` with its SHA-256; immutable from then on."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="records")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    snapshot = models.JSONField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    amendment_reason = models.TextField(blank=True)
    signer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    signature_meaning = models.CharField(max_length=200, default="approved as the board's decision")
    pdf = models.FileField(upload_to="records/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    rendered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    objects: ClassVar[RecordQuerySet] = RecordQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["decision", "version"]
        constraints = [models.UniqueConstraint(fields=["decision", "version"], name="record_version_once")]

    def __str__(self) -> str:
        return f"decision record {self.decision_id} v{self.version} ({self.state})"

    def save(self, *args: object, **kwargs: object) -> None:
        # Refuse any write to a row that is already ready (issue 7: rows refuse updates at the model layer).
        if self.pk is not None and type(self).objects.filter(pk=self.pk, state=self.State.READY).exists():
            raise ImmutableRecordError("A ready decision record cannot be changed; amend the decision instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if self.state == self.State.READY:
            raise ImmutableRecordError("A ready decision record cannot be deleted.")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]


class CalendarSubscription(models.Model):
    """A person's secret address for their feed of meetings, for calendar apps that cannot log in.

    The feed carries no patient data (meeting titles, times, places, video links). Only the
    SHA-256 of the key is stored: the address is shown once, when it is made. Making a new one
    replaces the old, which stops working at once; the person can also turn it off.
    """

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="calendar_subscription")
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"calendar subscription of {self.user} (made {self.created_at:%Y-%m-%d})"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
