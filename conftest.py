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


def _on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need a live worker (`worker`) or PostgreSQL's row locks (`postgres`) run in
    .ci/run; without those services they are deselected and counted, never silently skipped."""
    needs = {"worker": bool(os.environ.get("REDIS_URL")), "postgres": _on_postgres()}
    missing = [name for name, available in needs.items() if not available]
    unrunnable = [item for item in items if any(item.get_closest_marker(name) for name in missing)]
    if not unrunnable:
        return
    if _services_required():
        raise pytest.UsageError(
            f"REQUIRE_SERVICES=1 but {', '.join(missing)} not available for {len(unrunnable)} test(s)."
        )
    items[:] = [item for item in items if item not in unrunnable]
    config.hook.pytest_deselected(items=unrunnable)
    config._tumourboard_deselected = (len(unrunnable), missing)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    count, missing = getattr(config, "_tumourboard_deselected", (0, []))
    if count:
        terminalreporter.write_line(
            f"{count} test(s) marked {' or '.join(missing)} not run here: they need REDIS_URL (a live worker) "
            "or a PostgreSQL DATABASE_URL, and run in .ci/run."
        )


@pytest.fixture(scope="session")
def worker_media_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The media folder shared by the test process and the live worker (tests marked `worker`)."""
    return str(tmp_path_factory.mktemp("worker-media"))


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(request: pytest.FixtureRequest) -> None:
    """Rendered PDFs go to a temporary folder, never into the checkout's media/; a test that talks
    to the live worker uses the folder the worker writes to."""
    if "settings" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    settings = request.getfixturevalue("settings")
    if request.node.get_closest_marker("worker"):
        settings.MEDIA_ROOT = request.getfixturevalue("worker_media_root")
    else:
        settings.MEDIA_ROOT = str(request.getfixturevalue("tmp_path") / "media")


@pytest.fixture
def allow_sync_orm_in_browser_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in the test thread; Django's async-safety check
    would refuse the test's own ORM calls. Set for the test only, never for the process."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
