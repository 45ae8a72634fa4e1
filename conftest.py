"""Root pytest configuration: development settings mode for tests, and the real-worker marker.

`make test` runs with no server at all (SQLite, tasks in-process). `.ci/run` sets DATABASE_URL,
REDIS_URL and REQUIRE_SERVICES=1: then tests marked `worker` run against a real Celery worker
started here, and a missing service is an error, never a skip.
"""

from __future__ import annotations

import os

import pytest


def _services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("REDIS_URL"):
        return
    worker_tests = [item for item in items if item.get_closest_marker("worker")]
    if not worker_tests:
        return
    if _services_required():
        raise pytest.UsageError("REQUIRE_SERVICES=1 but REDIS_URL is not set: worker tests cannot run.")
    # Without a broker there is no worker to talk to: these tests belong to .ci/run.
    items[:] = [item for item in items if item not in worker_tests]
    config.hook.pytest_deselected(items=worker_tests)
    config._tumourboard_worker_deselected = len(worker_tests)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    count = getattr(config, "_tumourboard_worker_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} test(s) marked 'worker' not run: REDIS_URL is unset (they run in .ci/run with a live worker)."
        )
