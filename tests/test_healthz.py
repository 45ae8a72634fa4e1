"""/healthz: public, JSON, 200 when required parts answer, 503 when one does not."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError

from common.tasks import ping

pytestmark = pytest.mark.django_db


def test_healthy_without_a_broker(client, settings):
    settings.REDIS_URL = None
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": True, "detail": "none configured: tasks run in-process", "required": False}
    assert body["worker"]["ok"] is True


def test_broker_down_is_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["broker"]["ok"] is False
    assert body["broker"]["detail"].startswith("unreachable")
    assert body["worker"] == {"ok": False, "detail": "not checked: broker unreachable", "required": False}


def test_database_down_is_503(client, settings):
    settings.REDIS_URL = None
    with mock.patch("common.health.connection.cursor", side_effect=DatabaseError("gone")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "detail": "unreachable: DatabaseError", "required": True}


def test_healthz_needs_no_login_and_is_never_cached(client, settings):
    settings.REDIS_URL = None
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_ping_task_in_process():
    assert ping.delay().get(timeout=1) == "pong"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_ping_round_trip_through_redis_and_a_live_worker(celery_worker, client):
    result = ping.apply_async()
    assert result.get(timeout=20) == "pong"  # a worker process answered through Redis
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok",
        "database": {"ok": True, "detail": body["database"]["detail"], "required": True},
        "broker": {"ok": True, "detail": "redis", "required": True},
        "worker": {"ok": True, "detail": "answered ping", "required": False},
    }
