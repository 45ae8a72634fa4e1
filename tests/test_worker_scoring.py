"""Through a real Celery worker and Redis (run by .ci/run): a section change is scored by the
worker, and what the broker loses is re-driven from the database."""

from __future__ import annotations

import time

import pytest

from scoring.models import ScoreRun
from scoring.tasks import redrive_stale_scores
from tests.conftest import enter_sins_lesion

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for_current_scores(client, case_id: int, timeout: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scores = client.get(f"/api/v1/cases/{case_id}/scores/").json()
        if scores and all(s["current"] for s in scores):
            return scores
        time.sleep(0.2)
    pytest.fail(f"scores of case {case_id} not current after {timeout} s: {ScoreRun.objects.get(case_id=case_id)}")


def test_section_submit_is_scored_by_the_live_worker(celery_worker, personas, section_api, client_for):
    from cases.services import case_create

    case = case_create(
        board=personas.board,
        created_by=personas.coordinator,
        patient={"mrn": "W-1", "name": "Worker Test", "birth_date": "1958-03-01", "sex": "male"},
        referral_reason="Back pain",
        referred_primary="prostate",
    )
    rad = enter_sins_lesion(section_api, personas, case.pk, level="L1", escc_grade="1b")
    assert rad.submit("radiology").status_code == 200
    scores = {s["system"]: s for s in _wait_for_current_scores(client_for(personas.chair), case.pk)}
    assert (scores["sins"]["score"], scores["sins"]["category"]) == (7, "potentially_unstable")
    assert scores["bilsky"]["category"] == "low"
    run = ScoreRun.objects.get(case=case)
    assert run.computed_key == run.requested_key


def test_a_lost_message_is_redriven_through_the_worker(celery_worker, personas, client_for):
    from cases.services import case_create

    case = case_create(
        board=personas.board,
        created_by=personas.coordinator,
        patient={"mrn": "W-2", "name": "Lost Message", "birth_date": "1950-05-05", "sex": "female"},
        referral_reason="Back pain",
        referred_primary="breast",
    )
    _wait_for_current_scores(client_for(personas.chair), case.pk)
    # As if the broker had lost the message: the database still says the work is wanted.
    ScoreRun.objects.filter(case=case).update(computed_key="", requested_at="2000-01-01T00:00:00Z")
    assert redrive_stale_scores.delay().get(timeout=20) == 1
    _wait_for_current_scores(client_for(personas.chair), case.pk)
