from __future__ import annotations

from celery import shared_task


@shared_task(name="common.ping", acks_late=False, soft_time_limit=5, time_limit=10)  # type: ignore[untyped-decorator]
def ping() -> str:
    """Round-trip probe used by /healthz: a worker that answers is consuming the queue."""
    return "pong"
