"""Fault injection for tests/test_faults.py: a private Redis, private Celery workers bound to the
test database, and a Celery app pointed at them.

Faults are injected only into processes started here. The shared Redis on 6379 and PostgreSQL
itself are used by other tests and other people, so they are never stopped or restarted: a Redis
"outage" is this module's own redis-server going away, a "worker crash" is SIGKILL to this module's
own worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import redis
from celery import Celery, current_app
from django.db import connection

from cases.services import case_create, case_transition
from meetings import services as meeting_services
from meetings.models import DecisionRecord
from tests.conftest import quorum_meeting
from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
PRIVATE_REDIS_PORTS = range(6390, 6400)

T = TypeVar("T")


def wait_for(probe: Callable[[], T], *, timeout: float, interval: float = 0.2, what: str) -> T:
    """Call `probe` until it returns something truthy; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s")
        time.sleep(interval)


def _port_is_free(port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def free_redis_port() -> int:
    """A port in 6390-6399 nobody listens on (the shared Redis is on 6379)."""
    for port in PRIVATE_REDIS_PORTS:
        if _port_is_free(port):
            return port
    raise RuntimeError(
        f"No free port in {PRIVATE_REDIS_PORTS.start}-{PRIVATE_REDIS_PORTS.stop - 1} for a private Redis."
    )


@dataclass
class PrivateRedis:
    """A redis-server of the test's own that, like the machine's, keeps nothing on disk: stopping it
    loses every queued message."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def _answers(self) -> bool:
        try:
            with closing(self.client()) as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for(self._answers, timeout=10, interval=0.05, what=f"private Redis on port {self.port} answering")

    def stop(self) -> None:
        """Stop the server (SIGTERM; with nothing on disk, every queued message is gone)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        wait_for(lambda: _port_is_free(self.port), timeout=10, interval=0.05, what=f"port {self.port} released")

    def queue_lengths(self, *queues: str) -> dict[str, int]:
        with closing(self.client()) as client:
            return {queue: int(client.llen(queue)) for queue in queues}


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(port=free_redis_port(), workdir=workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def celery_app_on(broker_url: str) -> Iterator[Celery]:
    """A Celery app configured like the project's but publishing to `broker_url`, made the current
    app for the block, so that every `shared_task(...).delay()` (services, sweeps) goes there.

    Results are disabled: the tests read outcomes from the database, which is the point.
    """
    previous = current_app._get_current_object()
    app = Celery("tumourboard-faults", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker_url, result_backend=None, task_always_eager=False)
    app.set_current()
    try:
        yield app
    finally:
        previous.set_current()
        app.close()


def database_url_for_subprocess() -> str:
    """The test database as a URL another process can open (the worker subprocesses)."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("Fault tests need PostgreSQL.")
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class PrivateWorker:
    """One Celery worker process (solo pool: the task runs in the process we signal)."""

    process: subprocess.Popen[bytes]
    log: Path
    stopped: bool = False

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a power cut would: no shutdown, no acknowledgement."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.stopped = True

    def stop(self) -> None:
        if self.stopped:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.stopped = True

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(app: Celery, *, broker_url: str, media_root: str, log: Path, name: str) -> PrivateWorker:
    """Start a worker consuming `default` and `pdf` from `broker_url`, bound to the test database,
    storing files under `media_root` and printing e-mails to its log (console backend); return
    once it answers a ping through `app`."""
    env = {
        **os.environ,
        "REDIS_URL": broker_url,
        "DATABASE_URL": database_url_for_subprocess(),
        "DJANGO_DEBUG": "1",
        "MEDIA_ROOT": media_root,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tumourboard", "worker", "--pool=solo", "--loglevel=INFO",
             f"--hostname={name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--queues=default,pdf"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    worker = PrivateWorker(process=process, log=log)

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"worker {name} exited with {process.returncode}:\n{worker.log_text()[-3000:]}")
        # A connection of its own: the app's pooled ones may still point at a Redis since restarted.
        with app.connection_for_write() as probe:
            return bool(app.control.ping(timeout=0.5, connection=probe))

    try:
        wait_for(answers, timeout=60, interval=0, what=f"worker {name} answering a ping")
    except BaseException:
        worker.stop()
        raise
    return worker


@contextmanager
def running_worker(app: Celery, **options: Any) -> Iterator[PrivateWorker]:
    worker = start_worker(app, **options)
    try:
        yield worker
    finally:
        worker.stop()


def finalised_decision(personas: Any, mrn: str, *, rationale: str = "Single fraction") -> DecisionRecord:
    """A case taken through a quorate meeting to a finalised decision: its record is created pending
    and its render is dispatched on commit to the current Celery app."""
    case = case_create(
        board=personas.board, created_by=personas.coordinator,
        patient={"mrn": mrn, "name": "Fault Record", "birth_date": "1957-02-03", "sex": "male"},
        referral_reason="Back pain, known prostate cancer", referred_primary="prostate", goals="Walk the dog",
    )  # fmt: skip
    for target in ("in_workup", "ready", "scheduled"):
        case_transition(case=case, target=target, reason="test set-up")
    meeting = quorum_meeting(personas, title="Spine MDT")
    decision = meeting_services.decision_save(case=case, meeting=meeting, by=personas.chair, fields={
        "plan": {"radiation": {"modality": "cebrt", "dose_gy": 8.0, "fractions": 1}}, "rationale": rationale,
        "follows_recommendation": True})  # fmt: skip
    return meeting_services.decision_finalise(
        decision=decision, by=personas.chair, password=TEST_PASSWORD, expected_version=1
    )
