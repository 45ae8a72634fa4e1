"""In-process benchmarks (pytest-benchmark), run by `python -m bench` with bench/pytest.ini.

- The decision record render (`record_render`: template, WeasyPrint with the static-only fetcher
  and PDF/A-3b, storage, the claim and publish UPDATEs) against bare WeasyPrint turning the same
  HTML, given as a string, into a PDF with its default settings: the renderer's own ceiling.
- The scheduler placing 10,000 ready cases on 200 meetings, and its SQL statements at 10 and at
  10,000 cases.

Every benchmark runs in a transaction that is rolled back (pytest-django), so runs are repeatable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from weasyprint import HTML

from accounts.models import Board
from bench.data import DataSet
from cases.models import Case
from cases.vocabulary import CaseStatus, Urgency
from common.pdf import static_base_url
from meetings.models import DecisionRecord
from meetings.records import record_context, record_render
from meetings.scheduling import agenda_schedule

pytestmark = pytest.mark.django_db

PDF_ROUNDS = 10
SCHEDULE_ROUNDS = 5


def _representative(ds: DataSet) -> DecisionRecord:
    """The largest of the generated records (most lesions and scores): the costliest ordinary render."""
    records = DecisionRecord.objects.filter(pk__in=ds.record_ids)
    return max(records, key=lambda r: len(json.dumps(r.snapshot)))


def bench_weasyprint_bare(benchmark: Any, dataset: DataSet) -> None:
    html = render_to_string("meetings/record.html", record_context(_representative(dataset)))
    base_url = static_base_url()
    pdf = benchmark.pedantic(
        lambda: HTML(string=html, base_url=base_url).write_pdf(), rounds=PDF_ROUNDS, warmup_rounds=1
    )
    benchmark.extra_info["bytes"] = len(pdf)


def bench_record_render(benchmark: Any, dataset: DataSet) -> None:
    source = _representative(dataset)
    versions: Iterator[int] = count(1000)

    def pending_version() -> tuple[tuple[()], dict[str, int]]:
        now = timezone.now()
        record = DecisionRecord.objects.create(
            decision_id=source.decision_id, version=next(versions), snapshot=source.snapshot,
            signer_id=source.signer_id, signed_at=now, created_at=now,
        )  # fmt: skip
        return (), {"record_id": record.pk}

    published = benchmark.pedantic(record_render, setup=pending_version, rounds=PDF_ROUNDS, warmup_rounds=1)
    if not published:
        raise RuntimeError("record_render did not publish the record")


def _all_ready(boards: list[int], ids: list[int]) -> None:
    """Every case of the boards ready, one in ten urgent (no emergencies: the scheduler leaves those)."""
    Case.objects.filter(board_id__in=boards).update(status=CaseStatus.READY, urgency=Urgency.ROUTINE)
    Case.objects.filter(pk__in=ids[::10]).update(urgency=Urgency.URGENT)


def bench_schedule(benchmark: Any, dataset: DataSet) -> None:
    large = dataset.boards
    ids = list(Case.objects.filter(board_id__in=large).order_by("pk").values_list("pk", flat=True))
    # The small board's cases stay out of the large runs; they are the "10 cases" run below.
    Case.objects.filter(board_id=dataset.small_board).update(status=CaseStatus.IN_WORKUP)
    savepoints: list[str] = []
    captured: list[CaptureQueriesContext] = []

    def setup() -> None:
        savepoints.append(transaction.savepoint())
        _all_ready(large, ids)

    def teardown() -> None:
        transaction.savepoint_rollback(savepoints.pop())

    def run() -> int:
        # Recording costs microseconds per statement and the statements are few: the time stands.
        with CaptureQueriesContext(connection) as queries:
            placed = len(agenda_schedule().placed)
        captured.append(queries)
        return placed

    placed = benchmark.pedantic(run, setup=setup, teardown=teardown, rounds=SCHEDULE_ROUNDS)
    if placed != len(ids):
        raise RuntimeError(f"The scheduler placed {placed} of {len(ids)} ready cases")

    sid = transaction.savepoint()
    _all_ready([dataset.small_board], [])
    small_board = Board.objects.get(pk=dataset.small_board)
    with CaptureQueriesContext(connection) as few:
        placed_small = len(agenda_schedule(board=small_board).placed)
    transaction.savepoint_rollback(sid)
    benchmark.extra_info.update(
        {"placed": placed, "queries_at_large": len(captured[-1]), "placed_small": placed_small,
         "queries_at_small": len(few)}
    )  # fmt: skip
