"""The suite runs on the database DATABASE_URL names: CI proves it ran on PostgreSQL."""

from __future__ import annotations

import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_suite_runs_on_the_configured_database(capsys: pytest.CaptureFixture[str]) -> None:
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected
    if expected == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0]
        assert version.startswith("PostgreSQL")
        with capsys.disabled():
            print(f"\n[database] tests ran on {version.split(',')[0]}, database {connection.settings_dict['NAME']}")
