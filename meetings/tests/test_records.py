"""Decision records (issue 7): the PDF's content, versions, immutability, integrity, safe rendering,
the idempotent task and its sweep, and the REST endpoints. The produced PDFs are read with pypdf."""

from __future__ import annotations

import hashlib
import logging
import socket
from datetime import timedelta
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from pypdf import PdfReader

from cases.services import case_transition
from common.pdf import StaticOnlyURLFetcher, render_pdf, static_base_url
from meetings import records, services
from meetings.models import DecisionRecord, ImmutableRecordError, Meeting
from meetings.tasks_records import redrive_pending_records, render_decision_record
from tests import conftest as suite
from tests.factories import TEST_PASSWORD
from tumourboard.celery import app as celery_app

# The cross-app suite's personas and helpers (tests/conftest.py reaches only tests/), including its
# autouse fixtures: fast password hashing, a clean cache, and tasks run in-process.
_fast_password_hashing = suite._fast_password_hashing
_clean_cache = suite._clean_cache
_tasks_in_process_unless_worker = suite._tasks_in_process_unless_worker
personas = suite.personas
make_case = suite.make_case
section_api = suite.section_api
client_for = suite.client_for
api_client = suite.api_client

# The API tests run against the records URLs alone, at their production paths.
urlpatterns = [path("api/v1/", include("meetings.api.v1.records_urls"))]
api_urls = pytest.mark.urls(__name__)

PDFAID = "http://www.aiim.org/pdfa/ns/id/"
PLAN = {
    "radiation": {"modality": "srs", "dose_gy": 24.0, "fractions": 2, "timing": "within 2 weeks"},
    "surgery": [],
    "bone_targeted_agent": True,
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def _stored(record: DecisionRecord) -> bytes:
    with record.pdf.storage.open(record.pdf.name, "rb") as f:
        return f.read()


class Board:
    """Builds finalised decisions through the services, as the chair would at a meeting."""

    def __init__(self, personas: Any, make_case: Any, capture: Any) -> None:
        self.p, self.make_case, self.capture = personas, make_case, capture

    def scheduled_case(self, **patient: str) -> Any:
        case = self.make_case(
            patient={"mrn": "MRN-0042", "name": "Ana Novak", "birth_date": "1961-04-09", "sex": "female", **patient}
        )
        for target in ("in_workup", "ready", "scheduled"):
            case_transition(case=case, target=target, reason="test set-up")
        return case

    def meeting(self) -> Meeting:
        return suite.quorum_meeting(self.p)

    def finalise(
        self, case: Any = None, *, rationale: str = "SRS alone: stable spine, low-grade ESCC.", render: bool = True
    ) -> DecisionRecord:
        case = case or self.scheduled_case()
        decision = services.decision_save(
            case=case,
            meeting=self.meeting(),
            by=self.p.chair,
            fields={
                "plan": PLAN,
                "rationale": rationale,
                "follows_recommendation": False,
                "deviation_reason": "Patient declines surgery",
            },
        )
        with self.capture(execute=render):
            record = services.decision_finalise(
                decision=decision, by=self.p.chair, password=TEST_PASSWORD, expected_version=1
            )
        record.refresh_from_db()
        return record

    def amend(self, record: DecisionRecord, *, reason: str, rationale: str) -> DecisionRecord:
        decision = services.decision_reopen(
            decision=record.decision, by=self.p.chair, reason=reason, expected_version=record.decision.version
        )
        services.decision_save(
            case=decision.case, meeting=decision.meeting, by=self.p.chair, fields={"rationale": rationale}
        )
        with self.capture(execute=True):
            new = services.decision_finalise(
                decision=decision, by=self.p.chair, password=TEST_PASSWORD, expected_version=decision.version
            )
        new.refresh_from_db()
        return new


@pytest.fixture
def board(personas, make_case, django_capture_on_commit_callbacks) -> Board:
    return Board(personas, make_case, django_capture_on_commit_callbacks)


# --- content


def test_record_shows_the_whole_decision_on_numbered_identified_pages(board, personas, section_api):
    case = board.make_case(
        patient={"mrn": "MRN-0042", "name": "Ana Novak", "birth_date": "1961-04-09", "sex": "female"}
    )
    now = timezone.now()
    section_api(personas.radiologist, case.pk).patch(
        "radiology",
        {
            "whole_spine_imaging_at": (now - timedelta(days=2)).isoformat(),
            "lesions": [
                {
                    "level": "T4",
                    "is_index": True,
                    "escc_grade": "1b",
                    "bone_lesion": "lytic",
                    "alignment": "normal",
                    "collapse": "under_50",
                    "posterolateral": "unilateral",
                }
            ],
        },
    )
    section_api(personas.oncologist, case.pk).patch(
        "oncology",
        {
            "primary": "breast",
            "histology_detail": "Invasive ductal carcinoma",
            "kps": 90,
            "expected_survival_months": 36,
        },
    )
    section_api(personas.surgeon, case.pk).patch("surgery", {"frankel": "E", "motor_deficit": False})
    section_api(personas.pain, case.pk).patch(
        "pain", {"vas": 3, "lesions": [{"level": "T4", "sins_pain": "mechanical"}]}
    )
    for persona, discipline in (
        ("radiologist", "radiology"),
        ("oncologist", "oncology"),
        ("surgeon", "surgery"),
        ("pain", "pain"),
    ):
        assert section_api(getattr(personas, persona), case.pk).submit(discipline).status_code == 200
    case.refresh_from_db()
    case_transition(case=case, target="scheduled", reason="test set-up")

    record = board.finalise(case)

    assert record.state == "ready"
    assert record.pdf.name == f"records/{record.decision_id}/decision-{record.decision_id}-v1.pdf"
    pdf = _stored(record)
    assert hashlib.sha256(pdf).hexdigest() == record.sha256
    text = _text(pdf)
    pages = PdfReader(BytesIO(pdf)).pages
    for needle in (
        "MRN-0042",
        "Ana Novak",
        "SRS alone: stable spine, low-grade ESCC.",
        "version 1",
        "Patient declines surgery",
        "does not follow the NOMS recommendation",
        "approved as the board's decision",
        "Spinal Instability Neoplastic Score",
        "Fisher CG",
        "R19",
        "Invasive ductal carcinoma",
        records.snapshot_digest(record.snapshot),
    ):
        assert needle in text, needle
    for persona, _ in suite.QUORUM_ATTENDANCE:
        assert getattr(personas, persona).display_name in text
    for persona in ("radiologist", "oncologist", "surgeon", "pain"):
        assert f"Submitted by {getattr(personas, persona).display_name}" in text
    for number, page in enumerate(pages, start=1):
        page_text = page.extract_text()
        assert f"Page {number} of {len(pages)}" in page_text
        assert f"decision-{record.decision_id}-v1" in page_text


def test_record_is_pdfa_3b_with_embedded_fonts(board):
    reader = PdfReader(BytesIO(_stored(board.finalise())))
    pdfaid = {node.localName: node.value for node in reader.xmp_metadata.get_nodes_in_namespace("", PDFAID)}
    assert pdfaid == {"part": "3", "conformance": "B"}
    assert "/OutputIntents" in reader.root_object
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)[
            "/FontDescriptor"
        ]
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]


def test_free_text_is_escaped_not_parsed(board):
    record = board.finalise(rationale='Plan <script>alert("x")</script> & <b>bold</b>')
    assert 'Plan <script>alert("x")</script> & <b>bold</b>' in _text(_stored(record))


# --- versions


def test_amendment_yields_version_2_and_v1_is_served_stamped_but_stored_unchanged(board, client_for, personas):
    v1 = board.finalise()
    v1_bytes = _stored(v1)
    v2 = board.amend(v1, reason="Histology revised to renal cell", rationale="Radioresistant: SBRT instead")

    assert (v2.version, v2.supersedes_id, v2.amendment_reason) == (2, v1.pk, "Histology revised to renal cell")
    v2_text = _text(_stored(v2))
    assert "version 2" in v2_text
    assert "supersedes version 1" in v2_text
    assert "Histology revised to renal cell" in v2_text
    assert "SUPERSEDED" not in v2_text

    v1.refresh_from_db()
    assert _stored(v1) == v1_bytes and hashlib.sha256(v1_bytes).hexdigest() == v1.sha256
    stamped = records.record_download_bytes(v1)
    first_page = PdfReader(BytesIO(stamped)).pages[0].extract_text()
    assert "SUPERSEDED by version 2" in first_page
    assert "Histology revised to renal cell" in first_page
    assert "SUPERSEDED" not in "".join(p.extract_text() for p in PdfReader(BytesIO(stamped)).pages[1:])
    assert records.record_download_bytes(v1, original=True) == v1_bytes
    assert records.record_verify(v1) == (True, v1.sha256)


@api_urls
def test_download_headers_original_and_stamped(board, client_for, personas):
    v1 = board.finalise()
    board.amend(v1, reason="New MRI", rationale="Re-discussed with the new MRI")
    client = client_for(personas.radiologist)
    url = f"/api/v1/decisions/{v1.decision_id}/records/1/pdf"

    stamped = client.get(url, HTTP_ACCEPT="application/pdf")
    assert stamped.status_code == 200
    assert stamped["Content-Type"] == "application/pdf"
    assert (
        stamped["Content-Disposition"]
        == f'attachment; filename="decision-record_MRN-0042_case-{v1.snapshot["case"]["id"]}_v1.pdf"'
    )
    assert stamped["X-Record-SHA256"] == v1.sha256
    assert "SUPERSEDED by version 2" in PdfReader(BytesIO(stamped.content)).pages[0].extract_text()

    original = client.get(url, {"original": "1"})
    assert hashlib.sha256(original.content).hexdigest() == v1.sha256 == original["X-Record-SHA256"]


# --- integrity


@api_urls
def test_tampering_is_detected_by_verify_and_the_command(board, client_for, personas):
    record = board.finalise()
    client = client_for(personas.chair)
    verify = f"/api/v1/decisions/{record.decision_id}/records/1/verify"
    assert client.post(verify).json() == {"ok": True, "sha256": record.sha256}
    out = StringIO()
    call_command("verify_records", stdout=out)
    assert "1 decision records verified" in out.getvalue()

    # An appended incremental update is the classic way to change what a PDF shows.
    Path(record.pdf.path).write_bytes(_stored(record) + b"\n% altered after signing\n")

    body = client.post(verify).json()
    assert body["ok"] is False and body["sha256"] != record.sha256
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1 decision records fail verification"):
        call_command("verify_records", stdout=StringIO(), stderr=err)
    assert f"MISMATCH decision-{record.decision_id}-v1" in err.getvalue()

    Path(record.pdf.path).unlink()
    assert client.post(verify).json() == {"ok": False, "sha256": ""}


def test_a_ready_record_refuses_every_change(board):
    record = board.finalise()
    record.error = "rewritten"
    with pytest.raises(ImmutableRecordError):
        record.save()
    with pytest.raises(ImmutableRecordError):
        DecisionRecord.objects.filter(pk=record.pk).update(sha256="0" * 64)
    with pytest.raises(ImmutableRecordError):
        record.delete()
    record.refresh_from_db()
    assert record.error == "" and record.state == "ready"


# --- safe rendering


def test_fetcher_refuses_local_files_and_the_network(caplog, tmp_path):
    html = (
        '<html><head><link rel="stylesheet" href="http://example.com/x.css">'
        "<style>@import url(https://example.com/y.css); @font-face { font-family: X; src: url(http://example.com/f.ttf); }</style>"
        '<link rel="stylesheet" href="css/record.css"></head><body><p>Body text</p>'
        '<img src="file:///etc/passwd"><img src="../../../../../../etc/hostname"><img src="//example.com/pixel.png">'
        "</body></html>"
    )
    with (
        mock.patch.object(socket.socket, "connect", side_effect=AssertionError("network used")) as connect,
        mock.patch("urllib.request.OpenerDirector.open", side_effect=AssertionError("urllib used")) as urlopen,
        caplog.at_level(logging.WARNING, logger="common.pdf"),
    ):
        pdf = render_pdf(html, static_base_url())
    assert "Body text" in _text(pdf)
    connect.assert_not_called()
    urlopen.assert_not_called()
    refused = " ".join(r.getMessage() for r in caplog.records if r.name == "common.pdf")
    for url in (
        "http://example.com/x.css",
        "https://example.com/y.css",
        "http://example.com/f.ttf",
        "file:///etc/passwd",
        "file:///etc/hostname",
        "example.com/pixel.png",
    ):
        assert url in refused, url
    assert "css/record.css" not in refused


def test_fetcher_serves_static_files_only(settings, tmp_path):
    outside = tmp_path / "secret.css"
    outside.write_text("p { color: red }")
    static = Path(settings.STATICFILES_DIRS[0]).resolve()
    fetcher = StaticOnlyURLFetcher()
    assert b"@page" in fetcher.fetch((static / "css" / "record.css").as_uri()).read()
    for url in (outside.as_uri(), f"{static.as_uri()}/../manage.py", "file://otherhost/etc/passwd"):
        with pytest.raises(ValueError, match="Refused"):
            fetcher.fetch(url)
    assert fetcher.refused == [outside.as_uri(), f"{static.as_uri()}/../manage.py", "file://otherhost/etc/passwd"]


# --- the task: idempotent, retried, re-drivable


def test_rendering_again_does_nothing(board):
    record = board.finalise()
    before = _stored(record)
    assert records.record_render(record_id=record.pk) is False
    assert render_decision_record.delay(record.pk).get() is False
    record.refresh_from_db()
    assert (_stored(record), record.attempts, record.state) == (before, 1, "ready")
    assert sorted(p.name for p in Path(record.pdf.path).parent.iterdir()) == [Path(record.pdf.name).name]


def test_failures_are_recorded_retried_and_end_failed(board):
    record = board.finalise(render=False)
    with mock.patch("meetings.records.render_pdf", side_effect=OSError("pango exploded")):
        for attempt in range(1, records.MAX_ATTEMPTS):
            with pytest.raises(records.RecordRenderError):
                records.record_render(record_id=record.pk)
            record.refresh_from_db()
            assert (record.state, record.attempts, record.error) == ("pending", attempt, "OSError: pango exploded")
        with pytest.raises(records.RecordRenderError):
            records.record_render(record_id=record.pk)
    record.refresh_from_db()
    assert (record.state, record.attempts, record.pdf.name, record.sha256) == ("failed", records.MAX_ATTEMPTS, "", "")
    assert records.record_render(record_id=record.pk) is False


@pytest.fixture
def eager_retries(monkeypatch):
    """Eager mode runs a task's retries in-process only when errors do not propagate to the caller."""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)


def test_a_render_that_keeps_killing_its_worker_is_given_up(board):
    """Claimed MAX_ATTEMPTS times and never finished (hard time limit, out of memory): failed, not
    redelivered forever."""
    record = board.finalise(render=False)
    DecisionRecord.objects.filter(pk=record.pk).update(attempts=records.MAX_ATTEMPTS)
    with mock.patch("meetings.records.render_pdf") as render:
        assert records.record_render(record_id=record.pk) is False
    render.assert_not_called()
    record.refresh_from_db()
    assert record.state == "failed"
    assert record.error.startswith(f"Gave up after {records.MAX_ATTEMPTS} attempts")


def test_the_task_retries_with_backoff_until_it_gives_up(board, eager_retries):
    assert render_decision_record.max_retries == records.MAX_ATTEMPTS - 1
    assert render_decision_record.retry_backoff and render_decision_record.time_limit
    record = board.finalise(render=False)
    with mock.patch("meetings.records.render_pdf", side_effect=RuntimeError("bad font")):
        result = render_decision_record.delay(record.pk)
    assert result.failed() and isinstance(result.result, records.RecordRenderError)
    record.refresh_from_db()
    assert (record.state, record.attempts, record.error) == ("failed", records.MAX_ATTEMPTS, "RuntimeError: bad font")


def test_a_transient_failure_then_success(board, eager_retries):
    record = board.finalise(render=False)
    real = records.render_pdf

    def flaky(html: str, base_url: str) -> bytes:
        if render.call_count == 1:
            raise OSError("disk full")
        return real(html, base_url)

    with mock.patch("meetings.records.render_pdf", side_effect=flaky) as render:
        assert render_decision_record.delay(record.pk).get() is True
    record.refresh_from_db()
    assert (record.state, record.attempts, record.error) == ("ready", 2, "")


def test_an_overtaken_render_publishes_nothing_and_removes_its_file(board):
    """Two deliveries of one record (a re-drive racing a slow render): only the later claim publishes."""
    record = board.finalise(render=False)
    real = records.render_pdf

    def slow_render(html: str, base_url: str) -> bytes:
        pdf = real(html, base_url)
        if render.call_count == 1:
            # While the first render works, a second delivery claims and finishes the record.
            assert records.record_render(record_id=record.pk) is True
        return pdf

    with mock.patch("meetings.records.render_pdf", side_effect=slow_render) as render:
        assert records.record_render(record_id=record.pk) is False
    record.refresh_from_db()
    assert (record.state, record.attempts) == ("ready", 2)
    files = list(Path(record.pdf.path).parent.iterdir())
    assert files == [Path(record.pdf.path)]
    assert records.record_verify(record) == (True, record.sha256)


def test_sweep_redrives_old_pending_records_only(board, make_case):
    ready = board.finalise()
    lost = board.finalise(board.scheduled_case(mrn="MRN-0043", name="Lost Message"), render=False)
    with mock.patch.object(render_decision_record, "delay") as delay:
        assert records.records_redrive_pending() == []  # younger than REDRIVE_AFTER: maybe still queued
        assert records.records_redrive_pending(older_than=timedelta(0)) == [lost.pk]
    delay.assert_called_once_with(lost.pk)

    DecisionRecord.objects.filter(pk=lost.pk).update(created_at=timezone.now() - records.REDRIVE_AFTER * 2)
    assert redrive_pending_records.delay().get() == 1
    lost.refresh_from_db()
    ready.refresh_from_db()
    assert (lost.state, ready.attempts) == ("ready", 1)
    assert records.record_verify(lost) == (True, lost.sha256)
    assert DecisionRecord.objects.filter(state="ready").count() == 2


# --- REST API


def _urls(record: DecisionRecord) -> tuple[str, str, str]:
    base = f"/api/v1/decisions/{record.decision_id}/records/"
    return base, f"{base}{record.version}/pdf", f"{base}{record.version}/verify"


@api_urls
def test_list_versions_in_a_constant_number_of_queries(board, client_for, personas):
    v1 = board.finalise()
    listing, _, _ = _urls(v1)
    client = client_for(personas.service)
    with CaptureQueriesContext(connection) as one_version:
        client.get(listing)
    v2 = board.amend(v1, reason="New MRI", rationale="Re-discussed")
    with CaptureQueriesContext(connection) as two_versions:
        response = client.get(listing)
    assert len(two_versions) == len(one_version)  # signer and superseded version come with the rows
    assert response.status_code == 200
    body = response.json()
    assert [(r["version"], r["state"], r["supersedes"], r["amendment_reason"]) for r in body] == [
        (1, "ready", None, ""),
        (2, "ready", 1, "New MRI"),
    ]
    assert body[1]["sha256"] == v2.sha256
    assert body[0]["signer"] == {"id": personas.chair.pk, "username": "chair", "name": personas.chair.display_name}
    assert set(body[0]) == {
        "version",
        "state",
        "sha256",
        "created_at",
        "rendered_at",
        "supersedes",
        "amendment_reason",
        "error",
        "signer",
        "signed_at",
        "signature_meaning",
    }


@api_urls
def test_outsider_gets_404_on_every_endpoint(board, client_for, personas):
    record = board.finalise()
    listing, pdf, verify = _urls(record)
    client = client_for(personas.outsider)
    assert client.get(listing).status_code == 404
    assert client.get(pdf).status_code == 404
    assert client.post(verify).status_code == 404
    assert client_for(personas.chair).get(f"{listing}7/pdf").status_code == 404


@api_urls
def test_anonymous_gets_401(board, api_client):
    listing, pdf, verify = _urls(board.finalise())
    assert api_client.get(listing).status_code == 401
    assert api_client.get(pdf).status_code == 401
    assert api_client.post(verify).status_code == 401


@api_urls
def test_pending_is_404_and_failed_is_409_with_the_error(board, client_for, personas):
    record = board.finalise(render=False)
    _, pdf, verify = _urls(record)
    client = client_for(personas.chair)
    assert client.get(pdf, HTTP_ACCEPT="application/pdf").status_code == 404
    assert client.get(pdf, HTTP_ACCEPT="application/pdf")["Content-Type"] == "application/json"
    DecisionRecord.objects.filter(pk=record.pk).update(state="failed", attempts=6, error="OSError: pango exploded")
    response = client.get(pdf)
    assert response.status_code == 409
    assert response.json()["error"] == "OSError: pango exploded"
    assert client.post(verify).status_code == 409
    assert client.get(_urls(record)[0]).json()[0]["error"] == "OSError: pango exploded"
