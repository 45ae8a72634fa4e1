"""Decision record tasks: thin, idempotent, re-drivable (house style 6-7).

Rendering is routed to its own `pdf` queue (CELERY_TASK_ROUTES) so a slow WeasyPrint job never holds
up scoring or e-mail; the database row is the source of truth, so a lost message is re-sent by the
beat sweep.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from meetings.records import MAX_ATTEMPTS, RecordRenderError, record_render, records_redrive_pending


@shared_task(
    name="meetings.render_decision_record",
    autoretry_for=(RecordRenderError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=MAX_ATTEMPTS - 1,
    # A record is a few pages; well under a minute even for long score tables. The hard limit stays
    # far below the broker's visibility_timeout so a running render is never delivered twice.
    soft_time_limit=90,
    time_limit=120,
)  # type: ignore[untyped-decorator]
def render_decision_record(record_id: int) -> bool:
    return record_render(record_id=record_id)


@shared_task(name="meetings.redrive_pending_records", soft_time_limit=60, time_limit=90)  # type: ignore[untyped-decorator]
def redrive_pending_records() -> int:
    return len(records_redrive_pending())
