"""Scoring tasks: thin wrappers that take ids and call one service (house style 6)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from scoring.services import case_scores_recompute, scores_redrive_stale


@shared_task(  # type: ignore[untyped-decorator]
    name="scoring.recompute_case_scores",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def recompute_case_scores(case_id: int) -> bool:
    return case_scores_recompute(case_id=case_id)


@shared_task(name="scoring.redrive_stale_scores", soft_time_limit=60, time_limit=90)  # type: ignore[untyped-decorator]
def redrive_stale_scores() -> int:
    return len(scores_redrive_stale())
