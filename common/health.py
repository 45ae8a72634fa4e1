"""Checks behind /healthz: database, broker and (with a broker) a worker answering a ping."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import redis
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.db import DatabaseError, connection

from common.tasks import ping


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: str
    required: bool


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return Check(ok=False, detail=f"unreachable: {exc.__class__.__name__}", required=True)
    return Check(ok=True, detail=connection.vendor, required=True)


def check_broker() -> Check:
    if settings.REDIS_URL is None:
        return Check(ok=True, detail="none configured: tasks run in-process", required=False)
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except redis.RedisError as exc:
        return Check(ok=False, detail=f"unreachable: {exc.__class__.__name__}", required=True)
    return Check(ok=True, detail="redis", required=True)


def check_worker(broker: Check) -> Check:
    """A worker is reported, not required: web nodes stay in service while the database-backed
    re-drive sweeps catch up with work queued during a worker outage."""
    if settings.REDIS_URL is None:
        return Check(ok=True, detail="not applicable: tasks run in-process", required=False)
    if not broker.ok:
        return Check(ok=False, detail="not checked: broker unreachable", required=False)
    try:
        answer = ping.apply_async(expires=settings.HEALTHZ_WORKER_TIMEOUT * 5).get(
            timeout=settings.HEALTHZ_WORKER_TIMEOUT
        )
    except CeleryTimeoutError:
        return Check(ok=False, detail="no worker answered the ping", required=False)
    except (redis.RedisError, OSError) as exc:
        return Check(ok=False, detail=f"ping failed: {exc.__class__.__name__}", required=False)
    return Check(ok=answer == "pong", detail="answered ping", required=False)


def health_report() -> tuple[bool, dict[str, object]]:
    """(healthy, report). Healthy when every required part is up."""
    database = check_database()
    broker = check_broker()
    worker = check_worker(broker)
    checks = {"database": database, "broker": broker, "worker": worker}
    healthy = all(c.ok for c in checks.values() if c.required)
    degraded = healthy and not all(c.ok for c in checks.values())
    status = "ok" if healthy and not degraded else ("degraded" if healthy else "fail")
    return healthy, {"status": status, **{name: asdict(c) for name, c in checks.items()}}
