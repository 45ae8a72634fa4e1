"""Faults against the real services (issue 9), run by .ci/run: a worker killed mid-render, Redis
restarted with tasks queued, a database connection dropped mid-request, 50 conflicting edits.

The shared Redis and PostgreSQL are never stopped: the broker faults use a private redis-server and
private workers (tests/fault_support.py); the database faults terminate only this test's own
PostgreSQL backend. docs/reliability.md maps each promise to the test here that proves it.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import close_old_connections, connection, connections
from django.db.models import F
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

import cases.services
from cases.models import Case, Notification, OncologySection, RadiologyLesion, RadiologySection
from cases.notifications import notifications_redrive_pending
from meetings.models import DecisionRecord
from meetings.records import record_file_name, record_render, record_verify, records_redrive_pending
from meetings.tasks_records import render_decision_record
from scoring.models import ScoreRun
from scoring.services import scores_redrive_stale
from tests.fault_support import (
    celery_app_on,
    finalised_decision,
    private_redis,
    running_worker,
    start_worker,
    wait_for,
)
from tumourboard.celery import app as celery_app

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# A record of some twenty pages: the render takes long enough for the kill to land inside it.
LONG_RATIONALE = "Single fraction radiotherapy to T8 for pain; surgery declined by the patient. " * 1500
WRITERS = 50


@pytest.fixture
def tasks_in_process() -> Iterator[None]:
    """The database faults concern requests, not the broker: run their tasks in-process, so nothing
    they enqueue is left on the shared Redis for the session worker of later tests."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def media(settings, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A media folder of the test's own, shared with its private workers: the stored files it
    holds are exactly those of this test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT


def _stored_pdfs(media_root: str) -> set[str]:
    root = Path(media_root)
    return {p.relative_to(root).as_posix() for p in root.glob("records/*/*.pdf")}


def _sha256(media_root: str, name: str) -> str:
    return hashlib.sha256((Path(media_root) / name).read_bytes()).hexdigest()


# --- 1. A worker killed while rendering a record


def test_a_worker_killed_mid_render_leaves_the_record_to_the_sweep_and_it_ends_ready_once(personas, media, tmp_path):
    with private_redis(tmp_path / "redis") as broker, celery_app_on(broker.url) as app:
        doomed = start_worker(
            app, broker_url=broker.url, media_root=media, log=tmp_path / "doomed.log", name="faults-doomed"
        )
        try:
            record = finalised_decision(personas, "F-KILL", rationale=LONG_RATIONALE)  # render dispatched on commit
            # The render's claim is the conditional UPDATE of `attempts`: kill right after it.
            wait_for(
                lambda: DecisionRecord.objects.filter(pk=record.pk, attempts=1).exists(),
                timeout=60, interval=0.005, what="the worker claiming the record",
            )  # fmt: skip
            doomed.kill()
        finally:
            doomed.stop()
        record.refresh_from_db()
        assert (record.state, record.attempts) == ("pending", 1), "the render finished before the kill"
        assert _stored_pdfs(media) == set()

        # The message is unacknowledged in Redis, invisible for visibility_timeout (an hour): the
        # database sweep, not the broker, brings the work back.
        with running_worker(
            app, broker_url=broker.url, media_root=media, log=tmp_path / "fresh.log", name="faults-fresh"
        ) as fresh:
            assert records_redrive_pending(older_than=timedelta(0)) == [record.pk]
            wait_for(
                lambda: DecisionRecord.objects.filter(pk=record.pk).exclude(state="pending").exists(),
                timeout=90, what=f"record {record.pk} rendered after the re-drive",
            )  # fmt: skip
            # The killed worker's message, when Redis hands it out again, finds nothing to do.
            duplicate = render_decision_record.delay(record.pk)
            done = wait_for(
                lambda: re.search(rf"\[{duplicate.id}\] succeeded in [0-9.]+s: (\w+)", fresh.log_text()),
                timeout=30, what="the duplicate render finishing",
            )  # fmt: skip
            assert done.group(1) == "False"

    record.refresh_from_db()
    rows = DecisionRecord.objects.filter(decision=record.decision_id, version=record.version)
    assert [(r.state, r.attempts) for r in rows] == [("ready", 2)], record.error  # the killed attempt counted
    assert record.pdf.name == f"records/{record_file_name(record)}"
    assert _stored_pdfs(media) == {record.pdf.name}
    assert record_verify(record) == (True, record.sha256)
    assert _sha256(media, record.pdf.name) == record.sha256


# --- 2. Redis stopped and started while tasks are queued


def _emails_in(log: str, case_id: int) -> int:
    return len(re.findall(rf"Subject: MSCC EMERGENCY: case {case_id},", log))


def test_work_lost_with_a_redis_restart_is_completed_by_the_sweeps(personas, make_case, section_api, media, tmp_path):
    with private_redis(tmp_path / "redis") as broker, celery_app_on(broker.url) as app:
        # No worker yet: every on-commit dispatch waits in Redis.
        scored = make_case()
        section_api(personas.radiologist, scored.pk).patch(
            "radiology", {"lesions": [{"level": "L1", "bone_lesion": "mixed", "escc_grade": "1b"}]}
        )
        emergency = make_case()
        section_api(personas.radiologist, emergency.pk).patch(
            "radiology", {"lesions": [{"level": "T8", "escc_grade": "3"}]}
        )
        section_api(personas.surgeon, emergency.pk).patch("surgery", {"motor_deficit": True, "frankel": "C"})
        record = finalised_decision(personas, "F-REDIS")
        notification = Notification.objects.get(case=emergency)

        queued = broker.queue_lengths("default", "pdf")
        assert queued["pdf"] == 1 and queued["default"] >= 4, queued
        broker.stop()
        # A write while the broker is down still succeeds: the dispatch fails after the commit
        # (robust on_commit) and the score request is in the database.
        down = section_api(personas.pain, scored.pk).patch(
            "pain", {"lesions": [{"level": "L1", "sins_pain": "mechanical"}]}
        )
        assert down.status_code == 200, down.content
        broker.start()
        assert broker.queue_lengths("default", "pdf") == {"default": 0, "pdf": 0}  # nothing on disk: all lost

        runs = ScoreRun.objects.all()
        assert runs.count() == 3 and not runs.filter(computed_key=F("requested_key")).exists()
        assert (notification.state, notification.attempts) == ("pending", 0)
        assert (record.state, record.attempts) == ("pending", 0)

        log = tmp_path / "worker.log"
        with running_worker(
            app, broker_url=broker.url, media_root=media, log=log, name="faults-after-restart"
        ) as worker:
            assert sorted(scores_redrive_stale(older_than=timedelta(0))) == sorted(
                runs.values_list("case_id", flat=True)
            )
            assert records_redrive_pending(older_than=timedelta(0)) == [record.pk]
            assert notifications_redrive_pending(older_than=timedelta(0)) == [notification.pk]

            def all_done() -> bool:
                return (
                    not ScoreRun.objects.exclude(computed_key=F("requested_key")).exists()
                    and not DecisionRecord.objects.filter(state="pending").exists()
                    and not Notification.objects.filter(state="pending").exists()
                )

            wait_for(all_done, timeout=90, what=f"re-driven work done; worker log:\n{worker.log_text()[-3000:]}")
            # Nothing left for the next beat run of the sweeps.
            assert scores_redrive_stale(older_than=timedelta(0)) == []
            assert records_redrive_pending(older_than=timedelta(0)) == []
            assert notifications_redrive_pending(older_than=timedelta(0)) == []
        assert broker.queue_lengths("default", "pdf") == {"default": 0, "pdf": 0}

    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("sent", 1)
    assert _emails_in(log.read_text(errors="replace"), emergency.pk) == 1
    record.refresh_from_db()
    assert (record.state, record.attempts) == ("ready", 1), record.error
    assert record_verify(record) == (True, record.sha256)
    assert _stored_pdfs(media) == {record.pdf.name}


# --- 3. The PostgreSQL connection dropped during a request


def _own_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _terminate_backend(pid: int) -> None:
    """Terminate a PostgreSQL backend from a second connection, waiting until it is gone (PG >= 14)."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()


def _radiology_state(section_id: int) -> dict[str, Any]:
    section = RadiologySection.objects.get(pk=section_id)
    return {
        "version": section.version,
        "case_version": section.case.version,
        "lesions": sorted(
            RadiologyLesion.objects.filter(section=section).values_list("level", "escc_grade", "bone_lesion")
        ),
        "history": (RadiologySection.history.filter(id=section_id).count(), RadiologyLesion.history.count()),
        "requested": ScoreRun.objects.get(case_id=section.case_id).requested_key,
    }


def test_a_connection_dropped_mid_request_fails_cleanly_and_the_next_request_succeeds(
    personas, make_case, section_api, client_for, monkeypatch, tasks_in_process
):
    case = make_case()
    rad = section_api(personas.radiologist, case.pk)
    lesions = [{"level": "T4", "escc_grade": "1a", "bone_lesion": "lytic"}, {"level": "T5", "escc_grade": "1b"}]
    assert rad.patch("radiology", {"lesions": lesions}).status_code == 200
    section_id = RadiologySection.objects.get(case=case).pk
    before = _radiology_state(section_id)

    client = client_for(personas.radiologist)
    client.raise_request_exception = False
    url = f"/api/v1/cases/{case.pk}/sections/radiology/"
    etag = client.get(url)["ETag"]
    change = {"lesions": [{"level": "T4", "escc_grade": "2", "bone_lesion": "mixed"},
                          {"level": "L1", "escc_grade": "1c"}, {"level": "L2", "escc_grade": "0"}]}  # fmt: skip
    replace_lesions = cases.services._replace_lesions
    dropped: list[int] = []

    def drop_the_connection_halfway(section, discipline, wanted, by):  # type: ignore[no-untyped-def]
        # The first lesion rows are written (T5 deleted, T4 changed), then the connection dies.
        replace_lesions(section, discipline, wanted[:1], by)
        dropped.append(_own_backend_pid())
        _terminate_backend(dropped[0])
        replace_lesions(section, discipline, wanted, by)

    with monkeypatch.context() as patch:
        patch.setattr(cases.services, "_replace_lesions", drop_the_connection_halfway)
        failed = client.patch(url, change, format="json", HTTP_IF_MATCH=etag)
    assert dropped, "the fault was not injected"
    assert failed.status_code == 500
    assert _radiology_state(section_id) == before  # nothing half-saved: one transaction

    # The same edit, retried with the same ETag, is applied whole.
    retried = client.patch(url, change, format="json", HTTP_IF_MATCH=etag)
    assert retried.status_code == 200, retried.content
    after = _radiology_state(section_id)
    assert after["version"] == before["version"] + 1
    assert after["lesions"] == [("L1", "1c", ""), ("L2", "0", ""), ("T4", "2", "mixed")]

    # A persistent connection killed while idle (a PostgreSQL restart): Django's handler runs
    # close_old_connections() when a request starts (the test client skips it), and with
    # CONN_HEALTH_CHECKS the dead connection is replaced instead of failing the request.
    idle = _own_backend_pid()
    _terminate_backend(idle)
    close_old_connections()
    assert client.get(url).status_code == 200
    assert _own_backend_pid() != idle


# --- 4. Fifty concurrent conflicting edits of one section


@dataclass(frozen=True)
class Edit:
    marker: str
    read_version: int
    status: int
    body: dict[str, Any]


def test_fifty_conflicting_edits_are_applied_in_order_or_refused(personas, make_case, section_api, tasks_in_process):
    case = make_case()
    onc = section_api(personas.oncologist, case.pk)
    assert onc.patch("oncology", {"kps": 80, "histology_detail": "initial"}).status_code == 200
    section = OncologySection.objects.get(case=case)
    start_version = section.version
    token = Token.objects.get_or_create(user=personas.oncologist)[0].key
    url = f"/api/v1/cases/{case.pk}/sections/oncology/"
    barrier = threading.Barrier(WRITERS)

    def edit(n: int) -> Edit:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        client.raise_request_exception = False
        try:
            barrier.wait(timeout=30)
            # Ten waves, 150 ms apart: writers of a wave collide; a later wave may read a winner's version.
            time.sleep(n % 10 * 0.15)
            etag = client.get(url)["ETag"]
            # kps takes only multiples of 10, so a free-text field carries each writer's mark.
            marker = f"writer {n}"
            response = client.patch(
                url, {"kps": n % 11 * 10, "histology_detail": marker}, format="json", HTTP_IF_MATCH=etag
            )
            body = response.json() if response["Content-Type"] == "application/json" else {}
            return Edit(marker, int(etag.strip('"').rsplit("-v", 1)[1]), response.status_code, body)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        edits = list(pool.map(edit, range(WRITERS)))

    assert {e.status for e in edits} <= {200, 412}, sorted(e.status for e in edits)
    applied = [e for e in edits if e.status == 200]
    refused = [e for e in edits if e.status == 412]
    section.refresh_from_db()
    assert applied and len(applied) == section.version - start_version
    # A refusal is only ever for a version that had moved on.
    assert all(e.body["current_version"] > e.read_version for e in refused)

    history = list(
        OncologySection.history.filter(id=section.pk, version__gt=start_version)
        .order_by("version")
        .values_list("version", "histology_detail", "kps", "history_change_reason")
    )
    assert [h[0] for h in history] == list(range(start_version + 1, section.version + 1))
    assert {h[3] for h in history} == {"section edited"}
    # Each applied edit is recorded once, on top of the very version it read: no update lost.
    by_marker = {h[1]: h[0] for h in history}
    assert len(by_marker) == len(history)
    assert all(kps == int(marker.split()[1]) % 11 * 10 for _, marker, kps, _ in history)  # both fields, together
    assert {e.marker: e.read_version + 1 for e in applied} == by_marker
    assert (section.histology_detail, section.kps) == history[-1][1:3]


# --- Found by these tests (and fixed): concurrent edits of two sections of one case


def test_concurrent_edits_of_two_sections_never_reuse_a_case_version(
    personas, make_case, client_for, monkeypatch, tasks_in_process
):
    case = make_case()
    refresh = cases.services.case_urgency_refresh
    both_saved = threading.Barrier(2)

    def refresh_once_both_sections_are_saved(**kwargs: Any):  # type: ignore[no-untyped-def]
        # Both transactions have saved their section and neither has committed. With the case row
        # locked first the second writer never gets here while the first waits: it goes on alone.
        try:
            both_saved.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass
        return refresh(**kwargs)

    monkeypatch.setattr(cases.services, "case_urgency_refresh", refresh_once_both_sections_are_saved)

    def edit(user: Any, discipline: str, body: dict[str, Any]) -> int:
        client = client_for(user)
        client.raise_request_exception = False
        url = f"/api/v1/cases/{case.pk}/sections/{discipline}/"
        try:
            return client.patch(url, body, format="json", HTTP_IF_MATCH=client.get(url)["ETag"]).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        radiology = pool.submit(
            edit, personas.radiologist, "radiology", {"lesions": [{"level": "T8", "escc_grade": "3"}]}
        )
        surgery = pool.submit(edit, personas.surgeon, "surgery", {"motor_deficit": True, "frankel": "C"})
        assert (radiology.result(), surgery.result()) == (200, 200)

    issued = list(Case.history.filter(id=case.pk).order_by("history_id").values_list("version", flat=True))
    # Every change of the case issues a new ETag; a version issued twice lets a stale If-Match pass.
    assert issued == sorted(set(issued)), issued
    current = Case.objects.get(pk=case.pk)
    assert current.version == issued[-1]
    # Both sections' findings are behind the urgency the chair sees.
    assert current.emergency_clauses == ["a", "b"], current.urgency_reasons


def test_a_render_killed_after_storing_its_file_leaves_no_orphan(personas, media, tasks_in_process):
    with mock.patch.object(render_decision_record, "delay"):
        record = finalised_decision(personas, "F-ORPHAN")
    # What a worker killed between storing the file and publishing the row leaves behind: the
    # attempt claimed and the file stored under the version's name.
    stored = Path(media) / "records" / record_file_name(record)
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"%PDF-1.7 written by a render that was killed before publishing")
    DecisionRecord.objects.filter(pk=record.pk).update(attempts=1)

    assert record_render(record_id=record.pk)
    record.refresh_from_db()
    assert (record.state, record.attempts) == ("ready", 2)
    assert record.pdf.name == f"records/{record_file_name(record)}"
    assert _stored_pdfs(media) == {record.pdf.name}
    assert record_verify(record) == (True, record.sha256)


# --- 5. Connections are health-checked


def test_postgres_connections_are_persistent_and_health_checked(settings):
    database = settings.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True
    connection.ensure_connection()
    assert connection.health_check_enabled
