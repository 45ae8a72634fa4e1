"""Models shared by the apps: the append-only audit log of access to patient data (issue 9)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit event through the application."""


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The audit log is append-only.")


class AccessEvent(models.Model):
    """Who read or exported what, when and from where. Writes are in the models' history; this
    table covers reads. Rows are only ever inserted."""

    class Action(models.TextChoices):
        READ = "read", "Read"
        EXPORT = "export", "Export"

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=10, choices=Action.choices)
    resource = models.CharField(max_length=30)
    object_id = models.CharField(max_length=64)
    case_id = models.BigIntegerField(null=True, db_index=True)
    board_id = models.BigIntegerField(null=True, db_index=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects: ClassVar[AccessEventQuerySet] = AccessEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.resource} {self.object_id} at {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The audit log is append-only.")
