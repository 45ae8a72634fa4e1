"""The production-like stack the benchmark runs against: its environment, database and processes.

Gunicorn (2 sync workers) and one Celery worker run as subprocesses in their own process groups,
with the same environment as this process: DJANGO_DEBUG=0, a fresh SECRET_KEY, the dedicated
database `tumourboard_bench` and Redis database 14 (flushed at start).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = Path(__file__).resolve().parent / "results"
PG = "postgres://postgres@127.0.0.1:5432"
DATABASE = "tumourboard_bench"
REDIS_DB = 14
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


def environment() -> dict[str, str]:
    """Production settings (house style: from the environment), aimed at the bench's own services.

    Throttle rates are raised: the load test measures throughput, and the default 2000/minute per
    user would turn most of it into 429s (the throttle's cache look-ups still run on every request).
    """
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        "MEDIA_ROOT": str(VAR / "media"),
        "THROTTLE_USER": "1000000/minute",
        "THROTTLE_SERVICE": "1000000/minute",
        "LOG_LEVEL": "WARNING",
        "DEMO_PASSWORD": secrets.token_urlsafe(16),
    }


def recreate_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} during start-up")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"Nothing listens on port {port} after {timeout} s")


def _wait_for_worker(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    from tumourboard.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"The Celery worker exited with {proc.returncode} during start-up")
        if app.control.ping(timeout=1.0):
            return
    raise RuntimeError(f"The Celery worker did not answer a ping within {timeout} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def running(env: dict[str, str]) -> Iterator[str]:
    """Gunicorn (2 workers) and one Celery worker (concurrency 1, queues default and pdf), stopped
    on exit whatever happens. Yields the base URL. Their output goes to var/bench/*.log."""
    port = free_port()
    VAR.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with open(VAR / "gunicorn.log", "wb") as log:
            procs.append(
                subprocess.Popen(  # noqa: S603 (fixed arguments)
                    [sys.executable, "-m", "gunicorn", "tumourboard.wsgi:application", "--workers=2",
                     f"--bind=127.0.0.1:{port}", "--log-level=warning"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )
            )  # fmt: skip
        _wait_for_port(port, procs[-1])
        with open(VAR / "worker.log", "wb") as log:
            procs.append(
                subprocess.Popen(  # noqa: S603 (fixed arguments)
                    [sys.executable, "-m", "celery", "-A", "tumourboard", "worker", "--loglevel=WARNING",
                     "--concurrency=1", "--hostname=bench@%h", "--without-gossip", "--without-mingle",
                     "--queues=default,pdf"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )
            )  # fmt: skip
        _wait_for_worker(procs[-1])
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in reversed(procs):
            _stop(proc)
