"""The benchmark's data set: 10,000 cases over 3 boards, written fast.

Twelve template cases are written the way the application writes them (`seed_demo`: serializers,
services, real scoring), so every value passed the API's validation. The other 9,988 cases are
bulk-created copies of a template's case, sections and lesions with their own patient and referral
date. Their scores are computed per case by the same pure functions the scoring task runs
(`score_case`, `score_lesion`, with the copy's referral date); the NOMS proposal, whose input holds
no date, is computed once per template and stored for each copy. History rows are written only
for what the services wrote (templates, decisions): bulk copies have none.

A fourth board with 10 copies and its own reader gives the "10 cases" side of the query counts.
Each big board gets 4 decisions finalised through `decision_finalise` (their PDFs rendered in
process), a closed meeting they were taken at, and future planned meetings (200 in all) for the
scheduler.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.demo import MAIN_BOARD, OTHER_BOARD, demo_password, seed_people
from accounts.models import Board, Membership, User
from accounts.services import board_create, membership_create, user_create
from cases.demo import seed_cases
from cases.lifecycle import OPEN_FOR_SECTIONS
from cases.models import SECTION_MODELS, Case, Patient
from cases.vocabulary import CaseStatus, SectionState
from meetings.models import AgendaItem, Decision, DecisionRecord, Meeting
from meetings.services import attendance_record, decision_finalise, decision_save
from scoring.facts import case_facts, case_input, lesion_sins_totals
from scoring.models import CaseScore, Recommendation, ScoreRun
from scoring.rules import noms
from scoring.rules.case_mapping import score_case, score_lesion
from scoring.services import _store, sections_key
from tumourboard.celery import app as celery_app

CASES = 10_000
SMALL_BOARD_CASES = 10
THIRD_BOARD = "Bench MDT"
SMALL_BOARD = "Bench small MDT"
SMALL_READER = "bench-small-reader"
FUTURE_MEETINGS = 200
DECISIONS_PER_BOARD = 4
BATCH = 2_000
PLAN = {
    "radiation": {"modality": "sbrt", "dose_gy": 24.0, "fractions": 2, "timing": "within 2 weeks"},
    "surgery": [],
    "bone_targeted_agent": True,
}
ROLE_OF = {"chair": "chair", "oncologist": "oncologist", "surgeon": "surgeon", "radiologist": "radiologist",
           "pain": "pain_specialist"}  # fmt: skip
SECTION_SKIP = frozenset({"id", "case"})
LESION_SKIP = frozenset({"id", "section"})
CASE_SKIP = frozenset({"id", "patient", "board", "created_by", "referral_date"})


@dataclasses.dataclass(frozen=True)
class DataSet:
    """What the measurements need to know about the generated data (saved as JSON for pytest)."""

    boards: list[int]
    small_board: int
    reader_token: str  # the demo radiologist: member of the three boards, sees all 10,000 cases
    small_token: str  # member of the small board only: sees its 10 cases
    reader_id: int
    detail_case_ids: list[int]
    small_case_ids: list[int]
    submit_case_ids: list[int]  # radiology submitted, case still open: reopen and submit again
    record_ids: list[int]
    counts: dict[str, int]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> DataSet:
        return cls(**json.loads(path.read_text()))


def _copy(row: Any, skip: frozenset[str]) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.name not in skip}


@dataclasses.dataclass
class _Template:
    case: Case
    facts: Any
    proposal: dict[str, Any]
    inputs: dict[str, Any]
    key: str


def _templates(cases: Sequence[Case]) -> list[_Template]:
    loaded = (
        Case.objects.filter(pk__in=[c.pk for c in cases])
        .select_related("patient", "radiology", "surgery", "oncology", "pain")
        .prefetch_related("radiology__lesions", "surgery__lesions", "pain__lesions")
        .order_by("pk")
    )
    out = []
    for case in loaded:
        facts = case_facts(case)
        recommendation = Recommendation.objects.filter(case=case).order_by("-computed_at", "-id").first()
        proposal = noms.propose(case_input(case, sins_totals=lesion_sins_totals(facts))).to_dict()
        out.append(
            _Template(case, facts, proposal, recommendation.inputs if recommendation else {}, sections_key(case.pk))
        )
    return out


def _scores(case: Case, template: _Template, now: Any) -> list[CaseScore]:
    facts = dataclasses.replace(template.facts, referral_date=case.referral_date)
    rows = [_store(case, system, "", result, template.key, now) for system, result in score_case(facts).items()]
    for lesion in facts.lesions:
        for system, result in score_lesion(lesion, facts).items():
            rows.append(_store(case, system, lesion.level or "", result, template.key, now))
    return rows


def _clone(
    board: Board, count: int, templates: Sequence[_Template], by: User, offset: int
) -> list[tuple[Case, _Template]]:
    """`count` copies of the templates on `board`, in round robin, with scores and proposals."""
    today = timezone.localdate()
    now = timezone.now()
    created: list[tuple[Case, _Template]] = []
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        picks = [templates[(offset + start + i) % len(templates)] for i in range(size)]
        patients = Patient.objects.bulk_create(
            Patient(
                board=board, mrn=f"B{board.pk}-{start + i:05d}", name=f"Patient {start + i}",
                birth_date=t.case.patient.birth_date, sex=t.case.patient.sex,
            )
            for i, t in enumerate(picks)
        )  # fmt: skip
        cases = Case.objects.bulk_create(
            Case(
                **_copy(t.case, CASE_SKIP),
                patient=patient,
                board=board,
                created_by=by,
                referral_date=today - timedelta(days=(start + i) % 365),
            )
            for i, (t, patient) in enumerate(zip(picks, patients, strict=True))
        )
        for discipline, model in SECTION_MODELS.items():
            sections = model.objects.bulk_create(  # type: ignore[attr-defined]
                model(case=case, **_copy(getattr(t.case, discipline), SECTION_SKIP))
                for t, case in zip(picks, cases, strict=True)
            )
            lesion_model = getattr(model, "lesions", None)
            if lesion_model is None:
                continue
            lesion_model = lesion_model.rel.related_model
            lesion_model.objects.bulk_create(
                lesion_model(section=section, **_copy(lesion, LESION_SKIP))
                for t, section in zip(picks, sections, strict=True)
                for lesion in getattr(t.case, discipline).lesions.all()
            )
        CaseScore.objects.bulk_create(
            (row for t, case in zip(picks, cases, strict=True) for row in _scores(case, t, now)), batch_size=BATCH
        )
        Recommendation.objects.bulk_create(
            Recommendation(case=case, proposal=t.proposal, inputs=t.inputs, engine_version=noms.ENGINE_VERSION,
                           sections_key=t.key, computed_at=now)
            for t, case in zip(picks, cases, strict=True)
        )  # fmt: skip
        ScoreRun.objects.bulk_create(
            ScoreRun(case=case, requested_key=t.key, requested_at=now, computed_key=t.key, computed_at=now)
            for t, case in zip(picks, cases, strict=True)
        )
        created.extend(zip(cases, picks, strict=True))
    return created


def _meetings(board: Board, count: int) -> None:
    start = timezone.now() + timedelta(days=1)
    Meeting.objects.bulk_create(
        Meeting(
            board=board, title=f"{board.name} weekly", starts_at=start + timedelta(days=7 * i),
            duration_minutes=120, capacity_minutes=600, minutes_per_case=10, is_ad_hoc=i % 20 == 0,
        )
        for i in range(count)
    )  # fmt: skip


def _decisions(board: Board, cases: Sequence[Case], people: dict[str, User]) -> list[int]:
    """Finalise a decision on each case through the services; the records render in process."""
    meeting = Meeting.objects.create(
        board=board, title=f"{board.name} weekly", starts_at=timezone.now() - timedelta(hours=2),
        duration_minutes=120, capacity_minutes=600, minutes_per_case=10, status=Meeting.Status.IN_PROGRESS,
    )  # fmt: skip
    for username, role in ROLE_OF.items():
        attendance_record(meeting=meeting, user=people[username], role=role, present=True)
    chair = people["chair"]
    record_ids = []
    for order, case in enumerate(cases, start=1):
        Case.objects.filter(pk=case.pk).update(status=CaseStatus.SCHEDULED)
        AgendaItem.objects.create(
            meeting=meeting, case=case, order=order, allotted_minutes=10, placed_at=timezone.now()
        )
        decision = decision_save(
            case=case, meeting=meeting, by=chair,
            fields={"plan": PLAN, "rationale": "Stable spine, radiosensitive disease: SBRT.",
                    "follows_recommendation": False, "deviation_reason": "Patient prefers radiotherapy only."},
        )  # fmt: skip
        with transaction.atomic():
            record = decision_finalise(
                decision=decision, by=chair, password=demo_password(), expected_version=decision.version
            )
        record_ids.append(record.pk)
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED)
    return record_ids


def _people_on(board: Board, memberships: Sequence[Membership]) -> None:
    """The demo board's people on another board too, with the same roles."""
    for m in memberships:
        if m.board.name != MAIN_BOARD or Membership.objects.filter(user=m.user, board=board).exists():
            continue
        membership_create(user=m.user, board=board, discipline=m.discipline, is_chair=m.is_chair,
                          is_coordinator=m.is_coordinator)  # fmt: skip


def generate() -> DataSet:
    """Write the data set into the (empty, migrated) bench database. Tasks run in process here."""
    celery_app.conf.task_always_eager = True
    try:
        dataset = _generate()
    finally:
        celery_app.conf.task_always_eager = False
    vacuum_analyze()
    return dataset


def vacuum_analyze() -> None:
    """Planner statistics and visibility maps, as autovacuum keeps them on a production database.

    Run after the bulk load and again after the in-process benchmarks, whose rolled-back UPDATEs of
    every case leave dead row versions behind (autovacuum would catch up minutes later, in the
    middle of the measurements). The visibility map lets the case list's COUNT(*) read the board
    index alone: 1.6 ms at 10,000 cases, against 4 ms on a freshly loaded table and 15 ms on one
    carrying the scheduling benchmark's dead rows.
    """
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _generate() -> DataSet:
    memberships = seed_people()
    template_cases = seed_cases()
    boards = [Board.objects.get(name=MAIN_BOARD), Board.objects.get(name=OTHER_BOARD), board_create(name=THIRD_BOARD)]
    for board in boards[1:]:
        _people_on(board, memberships)
    small = board_create(name=SMALL_BOARD)
    small_reader = user_create(username=SMALL_READER, password=None, first_name="Small", last_name="Reader")
    membership_create(user=small_reader, board=small, discipline="radiologist")
    people = {u.username: u for u in User.objects.filter(username__in=[*ROLE_OF, "coordinator"])}
    templates = _templates(template_cases)

    per_board = [CASES // 3 + (1 if i < CASES % 3 else 0) for i in range(3)]
    per_board[0] -= len(template_cases)
    clones: list[list[tuple[Case, _Template]]] = []
    for i, (board, count) in enumerate(zip(boards, per_board, strict=True)):
        clones.append(_clone(board, count, templates, people["coordinator"], offset=i))
    small_cases = _clone(small, SMALL_BOARD_CASES, templates, people["coordinator"], offset=0)

    meetings_per_board = [FUTURE_MEETINGS // 3 + (1 if i < FUTURE_MEETINGS % 3 else 0) for i in range(3)]
    for board, count in zip(boards, meetings_per_board, strict=True):
        _meetings(board, count)
    _meetings(small, 5)

    # Decisions on copies of the six worked cases (complete sections, several lesions).
    worked = {t.case.pk for t in templates[:6]}
    record_ids: list[int] = []
    decided: set[int] = set()
    for board, board_clones in zip(boards, clones, strict=True):
        chosen = [case for case, t in board_clones if t.case.pk in worked][:DECISIONS_PER_BOARD]
        record_ids += _decisions(board, chosen, people)
        decided |= {c.pk for c in chosen}

    reader = people["radiologist"]
    submit_ids = list(
        Case.objects.filter(board__in=boards, status__in=OPEN_FOR_SECTIONS, radiology__state=SectionState.SUBMITTED)
        .exclude(pk__in=decided)
        .order_by("pk")
        .values_list("pk", flat=True)[:: max(1, CASES // 20)]
    )
    everything = [case.pk for board_clones in clones for case, _t in board_clones]
    return DataSet(
        boards=[b.pk for b in boards],
        small_board=small.pk,
        reader_token=Token.objects.create(user=reader).key,
        small_token=Token.objects.create(user=small_reader).key,
        reader_id=reader.pk,
        detail_case_ids=everything[:: max(1, len(everything) // 500)],
        small_case_ids=[case.pk for case, _t in small_cases],
        submit_case_ids=submit_ids,
        record_ids=record_ids,
        counts={
            "cases": Case.objects.filter(board__in=boards).count(),
            "small_board_cases": Case.objects.filter(board=small).count(),
            "template_cases": len(template_cases),
            "lesions": sum(
                m.lesions.rel.related_model.objects.count() for m in SECTION_MODELS.values() if hasattr(m, "lesions")
            ),
            "scores": CaseScore.objects.count(),
            "recommendations": Recommendation.objects.count(),
            "future_meetings": Meeting.objects.filter(board__in=boards, status=Meeting.Status.PLANNED).count(),
            "decisions": Decision.objects.filter(state=Decision.State.FINALISED).count(),
            "records": DecisionRecord.objects.count(),
        },
    )
