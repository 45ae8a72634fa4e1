"""Fixtures for the meetings tests: the suite's personas and case fixtures (tests/conftest.py
applies only under tests/), plus ready cases and meetings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases.models import Case
from meetings.models import Meeting
from meetings.tests.factories import MeetingFactory

# Importing the fixtures registers them here, autouse ones included (a non-root conftest cannot
# use pytest_plugins); the fixtures below that take them as arguments carry noqa: F811.
from tests.conftest import (  # noqa: F401
    Personas,
    _clean_cache,
    _fast_password_hashing,
    _tasks_in_process_unless_worker,
    make_case,
    personas,
)


@pytest.fixture
def ready_case(make_case: Callable[..., Case]) -> Callable[..., Case]:  # noqa: F811
    """A case in status `ready` with the given urgency and referral date. The status is set
    directly: these tests are about agendas, not about the readiness gate."""

    def make(urgency: str = "routine", referral_date: date | None = None, **overrides: Any) -> Case:
        case = make_case(referral_date=referral_date or timezone.localdate() - timedelta(days=10), **overrides)
        Case.objects.filter(pk=case.pk).update(status="ready", urgency=urgency)
        case.refresh_from_db()
        return case

    return make


@pytest.fixture
def meeting(personas: Personas) -> Callable[..., Meeting]:  # noqa: F811
    """A planned meeting of the personas' board `days` days from now (capacity 3 cases of 10 min)."""

    def make(days: int = 7, **overrides: Any) -> Meeting:
        fields: dict[str, Any] = {
            "board": personas.board,
            "starts_at": timezone.now() + timedelta(days=days),
            "capacity_minutes": 30,
            "minutes_per_case": 10,
        }
        fields.update(overrides)
        return MeetingFactory(**fields)

    return make
