"""The OpenAPI schema (issue 8): drf-spectacular generates it without warnings, and schemathesis,
calling every operation as a board member, finds no 5xx and no response that violates it.

The schema is loaded from the running test application (WSGI, in-process), so the requests share
the test's database transaction and its seeded data. The number of examples is bounded for CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from cases.models import Case
from meetings import services as meeting_services
from tests.conftest import quorum_meeting
from tests.factories import TEST_PASSWORD

SCHEMA_URL = "/api/v1/schema/?format=json"
MAX_EXAMPLES = 8


def test_spectacular_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi:")


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Schemathesis calls the real WSGI handler, whose request signals close "old" connections; in a
    test transaction (autocommit off) that would close the test's own connection on PostgreSQL.
    Django's test client detaches the same handlers for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def member_token(personas, make_case) -> str:  # type: ignore[no-untyped-def]
    """The chair's token, with a few cases and one finalised decision on the board to read (its record
    stays pending: rendering a PDF for every operation would dominate the run)."""
    cases = [make_case(), make_case(referred_primary="lung_nsclc"), make_case(referred_primary="unknown")]
    meeting = quorum_meeting(personas, starts_at=timezone.now() + timedelta(hours=1))
    Case.objects.filter(pk=cases[0].pk).update(status="scheduled")
    decision = meeting_services.decision_save(
        case=cases[0],
        meeting=meeting,
        by=personas.chair,
        fields={
            "plan": {
                "radiation": {"modality": "cebrt", "dose_gy": 20.0, "fractions": 5, "timing": ""},
                "surgery": [],
                "bone_targeted_agent": True,
            },
            "rationale": "Radiosensitive tumour",
            "follows_recommendation": True,
        },
    )
    meeting_services.decision_finalise(decision=decision, by=personas.chair, password=TEST_PASSWORD, expected_version=1)
    token, _ = Token.objects.get_or_create(user=personas.chair)
    return token.key


# Loaded at collection: the schema view needs neither the database nor a login. (schemathesis'
# fixture-based lazy loading does not work with pytest 9, which removed `Node._nodeid`.)
schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, get_wsgi_application())


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case, member_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Token {member_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
