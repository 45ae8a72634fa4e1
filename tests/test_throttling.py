"""Throttling (issue 8): 429 with `Retry-After` for service accounts over their rate and for anonymous
token attempts; people are not held to the service accounts' rate.

Throttle classes and rates are bound when DRF is imported, so `override_settings` cannot change them;
the tests set small rates on the throttle classes and the throttle list the settings configure.
"""

from __future__ import annotations

import pytest
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from common.throttling import ServiceAccountRateThrottle
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SERVICE_RATE = 3
ANON_RATE = 2


@pytest.fixture(autouse=True)
def _small_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": f"{ANON_RATE}/minute", "user": "100/minute", "service": f"{SERVICE_RATE}/minute"},
    )
    monkeypatch.setattr(APIView, "throttle_classes", [AnonRateThrottle, UserRateThrottle, ServiceAccountRateThrottle])


def _assert_throttled(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.content
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"].lower()


def test_a_service_account_over_its_rate_gets_429_with_retry_after(client_for, personas):
    client = client_for(personas.service)
    for _ in range(SERVICE_RATE):
        assert client.get("/api/v1/decisions/").status_code == 200
    _assert_throttled(client.get("/api/v1/decisions/"))
    _assert_throttled(client.get("/api/v1/boards/"))


def test_the_service_rate_counts_per_account(client_for, personas):
    other: User = UserFactory(username="service2", is_service_account=True)
    MembershipFactory(user=other, board=personas.board)
    for _ in range(SERVICE_RATE):
        client_for(personas.service).get("/api/v1/boards/")
    assert client_for(personas.service).get("/api/v1/boards/").status_code == 429
    assert client_for(other).get("/api/v1/boards/").status_code == 200


def test_a_person_is_not_held_to_the_service_rate(client_for, personas):
    client = client_for(personas.oncologist)
    for _ in range(SERVICE_RATE * 3):
        assert client.get("/api/v1/boards/").status_code == 200


def test_anonymous_token_attempts_get_429_with_retry_after(api_client, personas):
    for _ in range(ANON_RATE):
        response = api_client.post("/api/v1/auth/token/", {"username": "chair", "password": "guess"}, format="json")
        assert response.status_code == 400
    _assert_throttled(api_client.post("/api/v1/auth/token/", {"username": "chair", "password": "guess"}, format="json"))
