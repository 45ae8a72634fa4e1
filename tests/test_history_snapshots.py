"""`common.history.record_snapshots`: history rows copied by the database for bulk services (the
scheduler) must be the rows simple-history itself writes, field for field."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Board
from cases.models import Case, Patient
from common.history import record_snapshots, snapshot_batch_size

pytestmark = pytest.mark.django_db


def _row(record: Any) -> dict[str, Any]:
    """A history row's tracked values plus who, when, why and what kind."""
    history_model = type(record)
    values = {f.attname: getattr(record, f.attname) for f in history_model.tracked_fields}
    values |= {
        "history_date": record.history_date,
        "history_type": record.history_type,
        "history_user_id": record.history_user_id,
        "history_change_reason": record.history_change_reason,
    }
    return values


def test_a_snapshot_is_the_row_simple_history_writes(make_case, personas):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(
        status="ready", urgency="urgent", version=3, urgency_reasons=["MSCC suspected"]
    )
    case = Case.objects.get(pk=case.pk)  # a fresh instance: no change reason left from its creation
    at = timezone.now() - timedelta(minutes=5)
    reason = "placed on Spine tumour board, 2027-03-30 15:00 Europe/Ljubljana by the scheduler"

    record_snapshots(Case, {case.pk: reason}, by=personas.coordinator, at=at, history_type="~")
    ours = Case.history.filter(id=case.pk).order_by("-history_id").first()  # type: ignore[attr-defined]
    (theirs,) = Case.history.bulk_history_create(  # type: ignore[attr-defined]
        [case], update=True, default_user=personas.coordinator, default_change_reason=reason, default_date=at
    )
    theirs = Case.history.get(history_id=theirs.history_id)  # type: ignore[attr-defined]

    assert ours.history_id != theirs.history_id
    assert _row(ours) == _row(theirs)
    assert ours.urgency_reasons == ["MSCC suspected"] and ours.history_user == personas.coordinator


def test_each_object_gets_its_own_reason_and_objects_not_named_get_none(make_case):
    first, second, untouched = make_case(), make_case(), make_case()
    before = Case.history.filter(id=untouched.pk).count()  # type: ignore[attr-defined]

    record_snapshots(Case, {first.pk: "one", second.pk: "two"}, by=None, at=timezone.now(), history_type="~")

    latest = {pk: Case.history.filter(id=pk).order_by("-history_id").first() for pk in (first.pk, second.pk)}  # type: ignore[attr-defined]
    assert (latest[first.pk].history_change_reason, latest[second.pk].history_change_reason) == ("one", "two")
    assert latest[first.pk].history_user is None and latest[first.pk].history_type == "~"
    assert Case.history.filter(id=untouched.pk).count() == before  # type: ignore[attr-defined]


def test_any_number_of_rows_in_batches_of_the_parameter_limit(personas):
    board = Board.objects.get(pk=personas.board.pk)
    patients = Patient.objects.bulk_create(
        Patient(
            board=board,
            mrn=f"B-{n:05d}",
            name=f"Patient {n}",
            birth_date=timezone.localdate() - timedelta(days=20_000 + n),
            sex="female",
        )
        for n in range(1_200)
    )
    reasons = {p.pk: f"imported as {p.mrn}" for p in patients}

    with CaptureQueriesContext(connection) as queries:
        record_snapshots(Patient, reasons, by=personas.coordinator, at=timezone.now(), history_type="+")

    # One statement on PostgreSQL; on SQLite one per batch its 999 parameters allow.
    assert len(queries) == math.ceil(len(patients) / snapshot_batch_size())
    written = dict(Patient.history.filter(history_type="+").values_list("id", "history_change_reason"))  # type: ignore[attr-defined]
    assert written == reasons


def test_only_created_and_changed_are_snapshot_kinds(make_case):
    case = make_case()
    with pytest.raises(ValueError, match="history_type"):
        record_snapshots(Case, {case.pk: "gone"}, by=None, at=timezone.now(), history_type="-")
