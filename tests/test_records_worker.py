"""Decision records through a real Celery worker and Redis (run by .ci/run): the live worker renders
a finalised decision, and a render the broker lost is completed by the sweep, exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader

from cases.services import case_create, case_transition
from meetings import services
from meetings.models import DecisionRecord
from meetings.records import REDRIVE_AFTER, record_verify
from meetings.tasks_records import redrive_pending_records, render_decision_record
from tests.conftest import quorum_meeting
from tests.factories import TEST_PASSWORD
from tumourboard.celery import app as celery_app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pdf_worker(celery_worker):  # type: ignore[no-untyped-def]
    # Rendering is routed to the `pdf` queue; make sure the test worker consumes it whatever queues
    # it was started with (add_consumer is a no-op for a queue already consumed).
    celery_app.control.add_consumer("pdf", reply=True, timeout=5)
    return celery_worker


@pytest.fixture
def new_files(settings) -> Iterator[Callable[[], set[str]]]:  # type: ignore[no-untyped-def]
    """The record files stored since the test began (the worker shares MEDIA_ROOT, which may hold
    files of earlier runs); removed afterwards."""
    root = Path(settings.MEDIA_ROOT)
    before = set(root.glob("records/*/*.pdf"))

    def stored() -> set[str]:
        return {p.relative_to(root).as_posix() for p in set(root.glob("records/*/*.pdf")) - before}

    yield stored
    for name in stored():
        default_storage.delete(name)


def _pending_record(personas, mrn: str, *, dispatch: bool) -> DecisionRecord:  # type: ignore[no-untyped-def]
    case = case_create(
        board=personas.board,
        created_by=personas.coordinator,
        patient={"mrn": mrn, "name": "Worker Record", "birth_date": "1957-02-03", "sex": "male"},
        referral_reason="Back pain, known prostate cancer",
        referred_primary="prostate",
        goals="Walk the dog",
    )
    for target in ("in_workup", "ready", "scheduled"):
        case_transition(case=case, target=target, reason="test set-up")
    meeting = quorum_meeting(personas, title="Spine MDT")
    decision = services.decision_save(
        case=case,
        meeting=meeting,
        by=personas.chair,
        fields={
            "plan": {"radiation": {"modality": "cebrt", "dose_gy": 8.0, "fractions": 1}},
            "rationale": "Single fraction",
            "follows_recommendation": True,
        },
    )
    if dispatch:
        # No surrounding transaction: the on-commit dispatch goes to Redis as in production.
        return services.decision_finalise(
            decision=decision, by=personas.chair, password=TEST_PASSWORD, expected_version=1
        )
    # As if the broker lost the message: the pending row exists, nothing was queued.
    with mock.patch.object(render_decision_record, "delay") as lost:
        record = services.decision_finalise(
            decision=decision, by=personas.chair, password=TEST_PASSWORD, expected_version=1
        )
    lost.assert_called_once_with(record.pk)
    return record


def _wait_ready(record: DecisionRecord, timeout: float = 60.0) -> DecisionRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record.refresh_from_db()
        if record.state != DecisionRecord.State.PENDING:
            return record
        time.sleep(0.2)
    pytest.fail(f"{record} not rendered after {timeout} s (attempts {record.attempts}, error {record.error!r})")


def _assert_one_ready_version(record: DecisionRecord, files: set[str]) -> None:
    rows = DecisionRecord.objects.filter(decision=record.decision_id, version=record.version)
    assert [(r.state, r.attempts) for r in rows] == [("ready", 1)]
    assert record_verify(record) == (True, record.sha256)
    assert files == {record.pdf.name}  # no second file from a duplicate render


def test_the_live_worker_renders_a_finalised_decision(pdf_worker, personas, new_files):
    record = _wait_ready(_pending_record(personas, "W-REC-1", dispatch=True))
    assert record.state == "ready", record.error
    _assert_one_ready_version(record, new_files())
    with record.pdf.open("rb") as f:
        text = PdfReader(BytesIO(f.read())).pages[0].extract_text()
    assert "W-REC-1" in text and "version 1" in text


def test_a_dropped_render_is_completed_by_the_sweep_exactly_once(pdf_worker, personas, new_files):
    record = _pending_record(personas, "W-REC-2", dispatch=False)
    time.sleep(1)
    record.refresh_from_db()
    assert (record.state, record.attempts) == ("pending", 0)

    # Old enough for the sweep; then the sweep runs on the worker, and a late duplicate of the lost
    # message turns up too: still one render, one file, one ready row.
    DecisionRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - 2 * REDRIVE_AFTER)
    assert redrive_pending_records.delay().get(timeout=20) == 1
    duplicate = render_decision_record.delay(record.pk)
    record = _wait_ready(record)
    assert record.state == "ready", record.error
    assert duplicate.get(timeout=30) is False
    assert redrive_pending_records.delay().get(timeout=20) == 0
    record.refresh_from_db()
    _assert_one_ready_version(record, new_files())
