"""The measurements that need the running stack (HTTP, the live worker) or count SQL queries.

In-process timings (PDF render, scheduler) are pytest-benchmark runs in bench/inprocess.py.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import http
from bench.data import DataSet
from meetings.models import DecisionRecord

PING = "/bench/ping/"
LIST = "/api/v1/cases/"
# Durations, chosen so the whole run stays within a few minutes on two cores.
TRIALS = 3  # interleaved runs per endpoint, so drift (other load, caches) hits all of them alike
TRIAL_SECONDS = 6
WARMUP_SECONDS = 2
CONNECTIONS = 4  # two sync gunicorn workers: enough to keep both busy, not enough to queue deeply
PAGE_SECONDS = 8
SUBMIT_SAMPLES = 30
WORKER_RECORDS = 12


def detail_path(case_id: int) -> str:
    return f"/api/v1/cases/{case_id}/"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a small sample."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# --- (1) API throughput and latency, relative to the ping endpoint ------------------------------


def api_load(base_url: str, ds: DataSet) -> dict[str, http.Trials]:
    auth = f"Token {ds.reader_token}"
    targets = {
        "ping": [PING],
        "list": [LIST, *(f"{LIST}?page={n}" for n in range(2, 5))],
        "detail": [detail_path(pk) for pk in ds.detail_case_ids],
    }
    for paths in targets.values():
        http.load(base_url, paths, seconds=WARMUP_SECONDS, connections=CONNECTIONS, auth=auth)
    runs: dict[str, list[http.Load]] = {name: [] for name in targets}
    for _ in range(TRIALS):
        for name, paths in targets.items():
            runs[name].append(http.load(base_url, paths, seconds=TRIAL_SECONDS, connections=CONNECTIONS, auth=auth))
    return {name: http.Trials(tuple(loads)) for name, loads in runs.items()}


# --- (2) SQL queries per request at 10 and at 10,000 cases ---------------------------------------


def _client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}", SERVER_NAME="127.0.0.1")


def queries_per_request(client: Client, path: str) -> int:
    client.get(path)  # first request of a process fills caches (content types, URL resolver)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return len(captured)


def query_counts(ds: DataSet) -> dict[str, tuple[int, int]]:
    """(queries at 10 cases, queries at 10,000 cases) per endpoint."""
    small, large = _client(ds.small_token), _client(ds.reader_token)
    return {
        "ping": (queries_per_request(small, PING), queries_per_request(large, PING)),
        "list": (queries_per_request(small, LIST), queries_per_request(large, LIST)),
        "detail": (
            queries_per_request(small, detail_path(ds.small_case_ids[0])),
            queries_per_request(large, detail_path(ds.detail_case_ids[0])),
        ),
    }


# --- (5) section submit -> fresh scores through the API, live worker ----------------------------


@dataclass(frozen=True, slots=True)
class Samples:
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p95(self) -> float:
        return percentile(self.values, 95)


POLL_INTERVAL = 0.01


def _wait_fresh(session: requests.Session, base_url: str, case_id: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scores = session.get(f"{base_url}/api/v1/cases/{case_id}/scores/", timeout=10).json()
        if scores and all(entry["current"] for entry in scores):
            return
        time.sleep(POLL_INTERVAL)
    raise RuntimeError(f"Scores of case {case_id} were not current {timeout} s after the change")


def _post(session: requests.Session, url: str, etag: str, **kwargs: Any) -> requests.Response:
    response = session.post(url, headers={"If-Match": etag}, timeout=10, **kwargs)
    if response.status_code != 200:
        raise RuntimeError(f"POST {url} answered {response.status_code}: {response.text[:300]}")
    return response


def submit_to_fresh_scores(base_url: str, ds: DataSet) -> Samples:
    """Reopen the radiology section and wait for its scores; then time submit -> all scores current.

    The clock starts before the submit request is sent and stops when a GET of the scores shows
    every result computed from the new section versions (polled every 10 ms).
    """
    session = requests.Session()
    session.headers["Authorization"] = f"Token {ds.reader_token}"
    samples = []
    for i in range(SUBMIT_SAMPLES):
        case_id = ds.submit_case_ids[i % len(ds.submit_case_ids)]
        section = f"{base_url}/api/v1/cases/{case_id}/sections/radiology/"
        etag = session.get(section, timeout=10).headers["ETag"]
        etag = _post(session, f"{section}reopen/", etag, json={"reason": "benchmark: re-check"}).headers["ETag"]
        _wait_fresh(session, base_url, case_id)
        started = time.perf_counter()
        _post(session, f"{section}submit/", etag)
        _wait_fresh(session, base_url, case_id)
        samples.append(time.perf_counter() - started)
    return Samples(tuple(samples))


# --- (6) the case page in the browser -----------------------------------------------------------


def session_cookie(user_id: int) -> str:
    from accounts.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(pk=user_id))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def case_page(base_url: str, ds: DataSet) -> tuple[http.Load, http.Load]:
    """(case page, ping) one request at a time: the latency is the server's time for the HTML
    plus a loopback round trip, which the ping's own latency shows."""
    cookie = session_cookie(ds.reader_id)
    pages = [f"/cases/{pk}/" for pk in ds.detail_case_ids]
    http.load(base_url, pages, seconds=WARMUP_SECONDS, connections=1, cookie=cookie)
    page = http.load(base_url, pages, seconds=PAGE_SECONDS, connections=1, cookie=cookie)
    ping = http.load(base_url, [PING], seconds=PAGE_SECONDS, connections=1, auth=f"Token {ds.reader_token}")
    return page, ping


# --- (3) decision records through the live worker -----------------------------------------------


def worker_records_per_minute(ds: DataSet) -> float:
    """Enqueue WORKER_RECORDS renders of pending record versions at once; records per minute from
    the first enqueue until the last is ready (one worker, concurrency 1)."""
    from meetings.tasks_records import render_decision_record

    sources = list(DecisionRecord.objects.filter(pk__in=ds.record_ids).order_by("pk"))
    now = timezone.now()
    with transaction.atomic():
        pending = [
            DecisionRecord.objects.create(
                decision_id=source.decision_id, version=100 + i, snapshot=source.snapshot, signer_id=source.signer_id,
                signed_at=now, created_at=now,
            )
            for i, source in ((i, sources[i % len(sources)]) for i in range(WORKER_RECORDS))
        ]  # fmt: skip
    started = time.perf_counter()
    for record in pending:
        render_decision_record.delay(record.pk)
    ids = [r.pk for r in pending]
    deadline = started + 300
    while DecisionRecord.objects.filter(pk__in=ids, state=DecisionRecord.State.READY).count() < len(ids):
        if time.perf_counter() > deadline:
            raise RuntimeError("Decision records were not rendered within 300 s")
        time.sleep(0.05)
    return len(ids) / (time.perf_counter() - started) * 60


# --- pyinstrument profiles for missed budgets ---------------------------------------------------


def profile(work: Callable[[], object], *, repeat: int = 1, lines: int = 40, flat_lines: int = 25) -> str:
    """The top of a pyinstrument profile of `work` run `repeat` times, as plain text: the call tree
    (library frames folded), then the functions with the most time of their own."""
    from pyinstrument import Profiler

    work()  # warm caches, so the profile shows the steady state
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(repeat):
        work()
    profiler.stop()
    tree = profiler.output_text(unicode=False, color=False, show_all=False).splitlines()
    flat = profiler.output_text(unicode=False, color=False, flat=True).splitlines()
    body = [line for line in flat if line.strip()][:flat_lines]
    return "\n".join([*tree[:lines], "", "Most time of their own (pyinstrument --flat):", *body])


def profile_request(token: str, path: str, repeat: int = 20) -> str:
    """The profile of `repeat` requests, then each SQL statement of one request with its time."""
    client = _client(token)
    text = profile(lambda: client.get(path), repeat=repeat)
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    statements = [f"{float(q['time']) * 1000:7.1f} ms  {q['sql'][:110]}" for q in captured.captured_queries]
    return "\n".join([text, "", f"SQL of one GET {path}:", *statements])


def profile_rolled_back(work: Callable[[], object]) -> str:
    """Profile work that writes, inside a transaction that is rolled back."""

    def once() -> None:
        with transaction.atomic():
            work()
            transaction.set_rollback(True)

    return profile(once)
