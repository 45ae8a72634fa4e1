"""Personas (house style 15): one user per role on one board, plus an outsider on another board."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import connection, connections
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Board, Discipline, User
from accounts.otp import otp_enrolled, otp_required_for
from meetings.models import Meeting
from tests.factories import BoardFactory, MembershipFactory, UserFactory
from tumourboard.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Personas:
    board: Board
    other_board: Board
    oncologist: User
    surgeon: User
    radiologist: User
    pain: User
    chair: User
    coordinator: User
    service: User
    outsider: User


# The five roles a meeting's quorum needs (meetings.quorum), as (persona, attendance role).
QUORUM_ATTENDANCE: Final = (
    ("chair", "chair"),
    ("oncologist", "oncologist"),
    ("surgeon", "surgeon"),
    ("radiologist", "radiologist"),
    ("pain", "pain_specialist"),
)


def board_meeting(personas: Personas, *, starts_at: datetime | None = None, title: str = "Spine MDT weekly") -> Meeting:
    """A planned one-hour meeting of the personas' board with room for six cases of 10 minutes,
    starting now unless `starts_at` says otherwise."""
    return Meeting.objects.create(
        board=personas.board,
        title=title,
        starts_at=starts_at or timezone.now(),
        duration_minutes=60,
        capacity_minutes=60,
        minutes_per_case=10,
    )


def quorum_meeting(personas: Personas, **meeting: Any) -> Meeting:
    """`board_meeting` with the five quorum roles marked present through the service."""
    from meetings.services import attendance_record

    held = board_meeting(personas, **meeting)
    for persona, role in QUORUM_ATTENDANCE:
        attendance_record(meeting=held, user=getattr(personas, persona), role=role, present=True)
    return held


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # Password hashing is deliberately slow; tests check behaviour, not the hash's cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    # Throttle counters live in the cache: no test may inherit another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _tasks_in_process_unless_worker(request: pytest.FixtureRequest) -> Iterator[None]:
    """With a broker configured (CI), only tests marked `worker` send tasks to it; the rest run
    tasks in-process so that a stray message never reaches a worker bound to the test database."""
    eager = request.node.get_closest_marker("worker") is None or not os.environ.get("REDIS_URL")
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def personas(db: None) -> Personas:
    board = BoardFactory(name="Spine MDT")
    other = BoardFactory(name="Regional MDT")

    def member(username: str, board: Board = board, **roles: object) -> User:
        user = UserFactory(username=username, is_service_account=roles.pop("is_service_account", False))
        MembershipFactory(user=user, board=board, **roles)
        return user

    return Personas(
        board=board,
        other_board=other,
        oncologist=member("oncologist", discipline=Discipline.ONCOLOGIST),
        surgeon=member("surgeon", discipline=Discipline.SURGEON),
        radiologist=member("radiologist", discipline=Discipline.RADIOLOGIST),
        pain=member("pain", discipline=Discipline.PAIN_SPECIALIST),
        chair=member("chair", is_chair=True),
        coordinator=member("coordinator", is_coordinator=True),
        service=member("service", is_service_account=True),
        outsider=member("outsider", board=other, discipline=Discipline.ONCOLOGIST),
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    """An API client authenticated with the user's token (as REST clients do)."""

    def make(user: User) -> APIClient:
        client = VerifiedAPIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


def _database_url_for_worker() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{s['NAME']}"
    pytest.fail("Worker tests need a database a second process can open (PostgreSQL or a SQLite file).")


@pytest.fixture(scope="session")
def celery_worker(  # type: ignore[no-untyped-def]
    django_db_setup: None, django_db_blocker, worker_media_root: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process, consuming from Redis and bound to the test database."""
    with django_db_blocker.unblock():
        database_url = _database_url_for_worker()
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "1", "MEDIA_ROOT": worker_media_root}
    log = open(ROOT / "var" / "ci-worker.log", "ab") if (ROOT / "var").is_dir() else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tumourboard",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--hostname=pytest-worker@%h",
            "--without-gossip",
            "--without-mingle",
            "--queues=default,pdf",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"Celery worker exited with {proc.returncode} during start-up")
        if celery_app.control.ping(timeout=1.0):
            break
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("Celery worker did not answer a ping within 60 s")
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def make_case(personas: Personas, django_capture_on_commit_callbacks):
    """A referral registered through the service, as a coordinator would."""
    from cases.services import case_create

    counter = iter(range(1, 10_000))

    def make(**overrides: object):
        n = next(counter)
        fields: dict[str, object] = {
            "board": personas.board,
            "created_by": personas.coordinator,
            "patient": {
                "mrn": f"MRN-{n:04d}",
                "name": f"Patient {n}",
                "birth_date": date(1960, 1, n % 28 + 1),
                "sex": "female",
            },
            "referral_reason": "Back pain, known cancer",
            "referred_primary": "breast",
            "goals": "Keep walking",
        }
        fields.update(overrides)
        with django_capture_on_commit_callbacks(execute=True):
            return case_create(**fields)  # type: ignore[arg-type]

    return make


@pytest.fixture
def section_api(client_for, django_capture_on_commit_callbacks):
    """Read a section, then write it with the ETag just read (what a careful client does).

    Writes run their on-commit callbacks (the enqueued tasks), as a committed request would.
    """

    class SectionApi:
        def __init__(self, user: User, case_id: int) -> None:
            self.client = client_for(user)
            self.base = f"/api/v1/cases/{case_id}/sections/"

        def get(self, discipline: str):
            return self.client.get(f"{self.base}{discipline}/")

        def patch(self, discipline: str, body: dict, etag: str | None = None):
            etag = etag or self.get(discipline)["ETag"]
            with django_capture_on_commit_callbacks(execute=True):
                return self.client.patch(f"{self.base}{discipline}/", body, format="json", HTTP_IF_MATCH=etag)

        def submit(self, discipline: str, etag: str | None = None):
            etag = etag or self.get(discipline)["ETag"]
            with django_capture_on_commit_callbacks(execute=True):
                return self.client.post(f"{self.base}{discipline}/submit/", HTTP_IF_MATCH=etag)

        def reopen(self, discipline: str, reason: str, etag: str | None = None):
            etag = etag or self.get(discipline)["ETag"]
            with django_capture_on_commit_callbacks(execute=True):
                return self.client.post(
                    f"{self.base}{discipline}/reopen/", {"reason": reason}, format="json", HTTP_IF_MATCH=etag
                )

    return SectionApi


def enter_sins_lesion(section_api, personas: Personas, case_id: int, *, level: str = "L3", escc_grade: str = "0"):  # type: ignore[no-untyped-def]
    """One lesion at `level` with the findings of SINS worked case 1 (clinical-spec 7: mixed bone
    lesion, normal alignment, no collapse with more than 50 % involved, unilateral posterolateral
    involvement; occasional non-mechanical pain), entered as the radiologist and the pain specialist
    do. Returns the radiologist's section client."""
    rad = section_api(personas.radiologist, case_id)
    lesion = {
        "level": level,
        "bone_lesion": "mixed",
        "alignment": "normal",
        "collapse": "none_over_50_involved",
        "posterolateral": "unilateral",
        "escc_grade": escc_grade,
    }
    assert rad.patch("radiology", {"lesions": [lesion]}).status_code == 200
    pain = {"lesions": [{"level": level, "sins_pain": "occasional_non_mechanical"}]}
    assert section_api(personas.pain, case_id).patch("pain", pain).status_code == 200
    return rad


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture
def chromium(allow_sync_orm_in_browser_tests: None) -> Iterator[Any]:
    """Debian's chromium driven by Playwright (no downloaded browser; the network is closed)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # Playwright's sync API runs the test inside its own context, where the test's ORM calls
        # open a database connection of their own that the database teardown never sees.
        connections.close_all()


# --- Second factor (issue 9)


def enrol_authenticator(user: User) -> TOTPDevice:
    """The user's confirmed authenticator app (created on first use), as after set-up in the browser."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)


def authenticator_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the app shows now (or `steps_ahead` 30-second steps later: a code is accepted once,
    and the device accepts the next step's code too)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{code:0{device.digits}d}"


class _VerifiedLogins:
    """Test clients whose logins are sessions that have passed the second factor, as a person's
    browser session is after the code step: chairs and coordinators (and anyone enrolled) get a
    confirmed device, and the session records it. The OTP step itself is tested in test_security."""

    def force_login(self, user: User, backend: str | None = None) -> None:
        super().force_login(user, backend)  # type: ignore[misc]
        if otp_required_for(user) or otp_enrolled(user):
            session = self.session  # type: ignore[attr-defined]
            session[DEVICE_ID_SESSION_KEY] = enrol_authenticator(user).persistent_id
            session.save()

    def login(self, **credentials: Any) -> bool:
        # django-axes checks every authentication against the request it comes with.
        user = authenticate(HttpRequest(), **credentials)
        if user is None:
            return False
        self.force_login(user, backend=user.backend)  # type: ignore[arg-type]
        return True


class VerifiedClient(_VerifiedLogins, Client):
    pass


class VerifiedAPIClient(_VerifiedLogins, APIClient):
    pass


@pytest.fixture
def client() -> VerifiedClient:
    """pytest-django's `client`, with logins that pass the second factor (see _VerifiedLogins)."""
    return VerifiedClient()


def fill_ids(value: Any, ids: dict[str, str]) -> Any:
    """A request body template with its `{name}` fields filled in; an id standing alone becomes a
    number, as JSON clients send it."""
    if isinstance(value, str):
        filled = value.format(**ids)
        whole = value.startswith("{") and value.endswith("}") and value.count("{") == 1
        return int(filled) if whole and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: fill_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_ids(v, ids) for v in value]
    return value
