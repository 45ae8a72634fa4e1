"""Stored results of the scoring systems for each case, and the job rows that keep them current.

A result records the section versions it was computed from (`sections_key`), so a result computed
before the latest change is never shown as current. `ScoreRun` is the database's record of the
work: the key that is wanted and the key that was computed; a beat sweep re-drives any case where
the two differ, so a task lost with the broker is done anyway.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from cases.models import Case


class ScoreRun(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="score_run")
    requested_key = models.CharField(max_length=80)
    requested_at = models.DateTimeField()
    computed_key = models.CharField(max_length=80, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["requested_at"], condition=~Q(computed_key=F("requested_key")), name="scorerun_pending"
            )
        ]

    def __str__(self) -> str:
        return f"scores of case {self.case_id}: wanted {self.requested_key}, have {self.computed_key or 'none'}"

    @property
    def is_current(self) -> bool:
        return self.computed_key == self.requested_key


class CaseScore(models.Model):
    """One system's result for a case (level blank) or for one lesion (SINS and Bilsky, spec 4.5)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="scores")
    system = models.CharField(max_length=30)
    level = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=10)
    score = models.JSONField(null=True)
    # NULL, not "": an incomplete result has no category (spec 1.2), which differs from any text.
    category = models.CharField(max_length=40, null=True)  # noqa: DJ001
    category_label = models.CharField(max_length=200, null=True)  # noqa: DJ001
    items = models.JSONField(default=list)
    flags = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    inputs = models.JSONField(default=dict)
    citation = models.TextField()
    version = models.CharField(max_length=10)
    computed_at = models.DateTimeField()
    sections_key = models.CharField(max_length=80)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "system", "level"], name="case_score_one_per_system_and_level")
        ]
        ordering = ["case", "level", "id"]

    def __str__(self) -> str:
        return f"{self.system}{' ' + self.level if self.level else ''} of case {self.case_id}: {self.status}"


class Recommendation(models.Model):
    """A stored NOMS proposal (spec 5) for a case: versioned, with the inputs it used.

    A new row is written whenever the sections change; earlier rows are kept, so what the board was
    shown at any time can be told. The latest row is the current proposal.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="recommendations")
    proposal = models.JSONField()
    inputs = models.JSONField()
    engine_version = models.CharField(max_length=10)
    sections_key = models.CharField(max_length=80)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["case", "-computed_at"])]

    def __str__(self) -> str:
        return f"NOMS proposal for case {self.case_id} ({self.sections_key})"
