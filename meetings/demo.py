"""Demo meetings (api-contract "Demo data"): a weekly series with a scheduled agenda, and an ad hoc
MSCC meeting whose finalised decision has a ready decision record. Idempotent; written only
through the services, as a coordinator and the chair would."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.demo import MAIN_BOARD, demo_password
from accounts.models import Board, User
from cases.models import Case
from cases.vocabulary import CaseStatus
from meetings.models import Decision, DecisionRecord, Meeting, MeetingSeries
from meetings.scheduling import ScheduleResult, agenda_place, agenda_schedule
from meetings.series import series_generate
from meetings.services import attendance_record, decision_finalise, decision_save

SERIES_TITLE = "Spine MDT weekly"
AD_HOC_TITLE = "MSCC huddle (ad hoc)"
# Worked case 2 (spec 7): NSCLC with high-grade MSCC in poor condition; the board follows NOMS.
DECIDED_MRN = "MRN-1002"
ATTENDEES = (("chair", "chair"), ("oncologist", "oncologist"), ("surgeon", "surgeon"),
             ("radiologist", "radiologist"), ("pain", "pain_specialist"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoMeetings:
    series: MeetingSeries
    decision: Decision | None
    schedule: ScheduleResult


def _series(board: Board, chair: User) -> MeetingSeries:
    existing = MeetingSeries.objects.filter(board=board, title=SERIES_TITLE).first()
    if existing is not None:
        return existing
    series = MeetingSeries(
        board=board,
        title=SERIES_TITLE,
        weekday=MeetingSeries.Weekday.TUESDAY,
        start_time=dt.time(15, 0),
        time_zone="Europe/Ljubljana",
        duration_minutes=90,
        place="Seminar room 3, Neurosurgery",
        chair=chair,
        capacity_minutes=90,
        minutes_per_case=15,
        starts_on=timezone.localdate(),
    )
    series.full_clean()
    series.save()
    return series


@transaction.atomic
def _decided_emergency(board: Board, people: dict[str, User]) -> Decision | None:
    """Worked case 2 on an ad hoc meeting: attendance, the board's decision, the chair's signature."""
    case = Case.objects.filter(board=board, patient__mrn=DECIDED_MRN).first()
    if case is None:
        return None
    done = Decision.objects.filter(case=case).first()
    if done is not None or case.status != CaseStatus.READY:
        return done
    meeting = Meeting.objects.create(
        board=board,
        title=AD_HOC_TITLE,
        starts_at=timezone.now() + dt.timedelta(minutes=30),
        time_zone="Europe/Ljubljana",
        duration_minutes=30,
        capacity_minutes=30,
        minutes_per_case=15,
        is_ad_hoc=True,
        chair=people["chair"],
        place="Neurosurgery ward, seminar room",
    )
    agenda_place(case=case, meeting=meeting, by=people["coordinator"])
    for username, role in ATTENDEES:
        attendance_record(meeting=meeting, user=people[username], role=role, present=True)
    decision = decision_save(
        case=case,
        meeting=meeting,
        by=people["chair"],
        fields={
            "plan": {
                "radiation": {"modality": "cebrt", "dose_gy": 8.0, "fractions": 1, "timing": "today"},
                "surgery": [],
                "systemic": "",
                "steroids": {"dexamethasone": True, "regimen": "8 mg i.v. bolus, then 8 mg every 12 hours"},
                "bone_targeted_agent": True,
                "palliative_care": True,
                "work_up": [],
            },
            "rationale": (
                "KPS 40 and expected survival 1.5 months, not fit for surgery: single-fraction radiotherapy, "
                "dexamethasone and palliative care, as proposed (R11). The patient wishes to go home."
            ),
            "follows_recommendation": True,
        },
    )
    decision_finalise(decision=decision, by=people["chair"], password=demo_password(), expected_version=1)
    return decision


def seed_meetings() -> DemoMeetings:
    board = Board.objects.get(name=MAIN_BOARD)
    people = {u.username: u for u in User.objects.filter(memberships__board=board)}
    series = _series(board, people["chair"])
    series_generate(series=series, weeks=6)
    decision = _decided_emergency(board, people)
    schedule = agenda_schedule(board=board, by=people["coordinator"])
    return DemoMeetings(series=series, decision=decision, schedule=schedule)


def ready_records() -> int:
    return DecisionRecord.objects.filter(state=DecisionRecord.State.READY).count()
