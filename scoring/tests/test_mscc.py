"""Spec 6: MSCC trigger, near misses, urgency, effective urgency, checklist and the 24-hour clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scoring.rules.mscc import (
    CHECKLIST_STEPS,
    PROMPT_NEURO_NOT_RECORDED,
    CaseInput,
    CaseLesion,
    Urgency,
    UrgencyOverrideError,
    checklist_for,
    compute_urgency,
    effective_urgency,
    emergency_trigger,
    mscc_clock,
)

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def lesion(level: str = "T8", **kw: Any) -> CaseLesion:
    values: dict[str, Any] = {
        "is_index": True,
        "sins_total": 4,
        "escc_grade": "0",
        "pathological_fracture": False,
        "prior_surgery": False,
        "sins_pain": "pain_free",
    }
    values.update(kw)
    return CaseLesion(level, **values)


def case(*lesions: CaseLesion, **kw: Any) -> CaseInput:
    """No deficit recorded, imaged, surgery section recorded."""
    values: dict[str, Any] = {
        "primary": "breast",
        "lesions": lesions or (lesion(),),
        "myelopathy": False,
        "motor_deficit": False,
        "bladder_bowel_dysfunction": False,
        "frankel": "E",
        "whole_spine_imaging_at": START,
        "night_or_rest_pain": False,
        "surgery_recorded": True,
    }
    values.update(kw)
    return CaseInput(**values)


# ---------------------------------------------------------------------------------------------
# spec 6.1 trigger


@pytest.mark.parametrize(
    ("grade", "sign"), [("2", "motor_deficit"), ("2", "myelopathy"), ("3", "motor_deficit"), ("3", "myelopathy")]
)
def test_clause_a(grade: str, sign: str) -> None:
    result = emergency_trigger(case(lesion(escc_grade=grade), **{sign: True}))
    assert result.emergency
    assert result.clauses == ("a", "b")  # a cord sign is itself clause (b)
    assert result.reasons[0].startswith(f"(a) ESCC {grade} at T8 with ")


def test_clause_a_reads_every_lesion_not_only_the_index() -> None:
    result = emergency_trigger(
        case(lesion("T2", escc_grade="0"), lesion("T9", is_index=False, escc_grade="3"), motor_deficit=True)
    )
    assert "a" in result.clauses
    assert "ESCC 3 at T9" in result.reasons[0]


def test_clause_a_not_for_borderline_escc() -> None:
    result = emergency_trigger(case(lesion(escc_grade="1c"), motor_deficit=True))
    assert result.clauses == ("b",)


@pytest.mark.parametrize(
    "change",
    [
        {"myelopathy": True},
        {"motor_deficit": True},
        {"bladder_bowel_dysfunction": True},
        {"frankel": "A"},
        {"frankel": "B"},
        {"frankel": "C"},
        {"frankel": "D"},
    ],
)
def test_clause_b_each_sign_even_before_imaging(change: dict[str, Any]) -> None:
    result = emergency_trigger(CaseInput(**change))  # no lesion, no imaging yet
    assert (result.emergency, result.clauses) == (True, ("b",))
    assert result.reasons[0].startswith("(b) new myelopathy: ")


@pytest.mark.parametrize(
    "inputs",
    [
        CaseInput(),
        CaseInput(frankel="E", myelopathy=False, motor_deficit=False, bladder_bowel_dysfunction=False),
        CaseInput(lesions=(lesion(escc_grade="3"),)),
    ],
)
def test_no_trigger(inputs: CaseInput) -> None:
    result = emergency_trigger(inputs)
    assert (result.emergency, result.clauses, result.reasons) == (False, (), ())


# ---------------------------------------------------------------------------------------------
# spec 6.2 near misses: never emergency, each at its exact level

NEAR_MISSES = [
    pytest.param(case(lesion(escc_grade="2")), "urgent", (), id="escc2-frankel-E-no-deficit"),
    pytest.param(case(lesion(escc_grade="3")), "urgent", (), id="escc3-frankel-E-no-deficit"),
    pytest.param(
        CaseInput(primary="breast", lesions=(lesion(escc_grade="3"),), whole_spine_imaging_at=START),
        "urgent",
        (PROMPT_NEURO_NOT_RECORDED,),
        id="escc3-surgery-not-recorded",
    ),
    pytest.param(case(lesion(sins_total=13)), "urgent", (), id="sins-13"),
    pytest.param(case(lesion(sins_total=18)), "urgent", (), id="sins-18"),
    pytest.param(case(lesion(pathological_fracture=True)), "urgent", (), id="new-fracture"),
    pytest.param(case(lesion(sins_pain="occasional_non_mechanical")), "routine", (), id="radicular-pain-imaged"),
    pytest.param(
        case(lesion(sins_pain="occasional_non_mechanical"), whole_spine_imaging_at=None),
        "urgent",
        (),
        id="radicular-pain-not-imaged",
    ),
    pytest.param(case(lesion(escc_grade="1c")), "routine", (), id="escc-1c"),
    pytest.param(case(lesion(escc_grade="1c", sins_total=14)), "urgent", (), id="escc-1c-with-sins-14"),
    pytest.param(
        case(lesion(sins_pain="mechanical"), night_or_rest_pain=True), "routine", (), id="severe-night-pain-imaged"
    ),
    pytest.param(
        case(lesion(sins_pain="mechanical"), night_or_rest_pain=True, whole_spine_imaging_at=None),
        "urgent",
        (),
        id="night-pain-not-imaged",
    ),
]


@pytest.mark.parametrize(("inputs", "level", "prompts"), NEAR_MISSES)
def test_near_misses(inputs: CaseInput, level: Urgency, prompts: tuple[str, ...]) -> None:
    assert not emergency_trigger(inputs).emergency
    result = compute_urgency(inputs)
    assert result.level == level
    assert result.prompts == prompts
    assert bool(result.reasons) is (level == "urgent")


def test_prompt_when_surgery_recorded_but_neuro_fields_blank() -> None:
    result = compute_urgency(case(lesion(escc_grade="2"), motor_deficit=None))
    assert (result.level, result.prompts) == ("urgent", (PROMPT_NEURO_NOT_RECORDED,))


def test_no_prompt_without_high_grade_escc() -> None:
    assert compute_urgency(CaseInput(lesions=(lesion(escc_grade="1c"),))).prompts == ()


# ---------------------------------------------------------------------------------------------
# spec 6.5 urgency


def test_emergency_level_carries_trigger_reasons() -> None:
    result = compute_urgency(case(lesion(escc_grade="3", sins_total=15), motor_deficit=True))
    assert result.level == "emergency"
    assert result.reasons[0].startswith("(a) ESCC 3 at T8 with motor deficit")


@pytest.mark.parametrize(("prior_surgery", "level"), [(False, "urgent"), (None, "urgent"), (True, "routine")])
def test_fracture_new_unless_operated(prior_surgery: bool | None, level: Urgency) -> None:
    assert compute_urgency(case(lesion(pathological_fracture=True, prior_surgery=prior_surgery))).level == level


@pytest.mark.parametrize(
    ("pain", "night", "imaged", "level"),
    [
        ("pain_free", False, False, "routine"),
        ("pain_free", None, False, "routine"),
        (None, True, False, "urgent"),
        ("mechanical", False, False, "urgent"),
        ("mechanical", False, True, "routine"),
    ],
)
def test_pain_without_whole_spine_mri(pain: str | None, night: bool | None, imaged: bool, level: Urgency) -> None:
    inputs = case(lesion(sins_pain=pain), night_or_rest_pain=night, whole_spine_imaging_at=START if imaged else None)
    assert compute_urgency(inputs).level == level


def test_urgent_reasons_name_each_criterion() -> None:
    result = compute_urgency(case(lesion("T4", sins_total=13, escc_grade="2", pathological_fracture=True)))
    assert result.reasons == (
        "SINS 13 at T4 (unstable, 13-18)",
        "ESCC 2 at T4",
        "pathological fracture at T4 without prior surgery (treated as new)",
    )


def test_empty_case_is_routine() -> None:
    assert compute_urgency(CaseInput()).level == "routine"


# ---------------------------------------------------------------------------------------------
# spec 6.5 effective urgency


@pytest.mark.parametrize(
    ("computed", "override", "reason", "effective"),
    [
        ("routine", None, None, "routine"),
        ("urgent", "emergency", None, "emergency"),
        ("routine", "urgent", "", "urgent"),
        ("urgent", "urgent", None, "urgent"),
        ("emergency", "urgent", "long-standing deficit already treated", "urgent"),
        ("emergency", "routine", "paraplegia for 2 years, treated", "routine"),
    ],
)
def test_effective_urgency(computed: Urgency, override: Urgency | None, reason: str | None, effective: Urgency) -> None:
    assert effective_urgency(computed, override, reason) == effective


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_lowering_without_reason_is_refused(reason: str | None) -> None:
    with pytest.raises(UrgencyOverrideError, match="needs a recorded reason"):
        effective_urgency("emergency", "urgent", reason)
    assert issubclass(UrgencyOverrideError, ValueError)


def test_effective_urgency_rejects_unknown_level() -> None:
    with pytest.raises(ValueError, match="override"):
        effective_urgency("routine", "critical", "x")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# spec 6.3 checklist


def test_checklist_steps_and_codes() -> None:
    assert [s.code for s in CHECKLIST_STEPS] == [
        "admit",
        "whole_spine_mri",
        "dexamethasone",
        "surgical_consult",
        "radiotherapy_consult",
        "board_plan",
    ]
    dex = CHECKLIST_STEPS[2].text
    assert dex == (
        "Dexamethasone 8 mg i.v. bolus, then 8 mg every 12 hours (i.v., i.m. or p.o.); "
        "taper after definitive treatment."
    )
    assert "96" not in dex and "16 mg" not in dex and "10 mg" not in dex
    assert "CT if MRI is impossible" in CHECKLIST_STEPS[1].text


@pytest.mark.parametrize(
    ("primary", "radiotherapy", "r1_note"),
    [
        ("breast", True, True),
        ("prostate", True, True),
        ("germ_cell", True, True),
        ("myeloma", True, False),
        ("lymphoma", True, False),
        ("kidney", False, False),
        ("unknown", False, False),
        (None, False, False),
    ],
)
def test_checklist_radiotherapy_step(primary: str | None, radiotherapy: bool, r1_note: bool) -> None:
    steps = {s.code: s for s in checklist_for(CaseInput(primary=primary))}
    assert ("radiotherapy_consult" in steps) is radiotherapy
    assert len(steps) == (6 if radiotherapy else 5)
    if radiotherapy:
        detail = steps["radiotherapy_consult"].detail
        assert (detail is not None and "board confirms radiotherapy over decompression" in detail) is r1_note


def test_checklist_shows_current_corticosteroid() -> None:
    steps = {s.code: s for s in checklist_for(CaseInput(corticosteroid_dose="dexamethasone 4 mg/day"))}
    assert steps["dexamethasone"].detail == "Corticosteroid already recorded: dexamethasone 4 mg/day"
    assert checklist_for(CaseInput())[2].detail is None


# ---------------------------------------------------------------------------------------------
# spec 6.4 clock


def test_clock_running_before_24_hours() -> None:
    clock = mscc_clock(START, None, None, START + 10 * H)
    assert clock.deadline == START + 24 * H
    assert (clock.imaging.status, clock.plan.status) == ("running", "running")
    assert clock.imaging.elapsed == 10 * H and clock.imaging.remaining == 14 * H
    assert not clock.breached and not clock.met


def test_clock_breached_after_24_hours() -> None:
    clock = mscc_clock(START, None, None, START + 25 * H)
    assert (clock.imaging.status, clock.plan.status) == ("breached", "breached")
    assert clock.imaging.remaining == timedelta(0) and clock.imaging.elapsed == 25 * H
    assert clock.breached


def test_clock_exactly_24_hours_is_not_breached() -> None:
    assert mscc_clock(START, None, None, START + 24 * H).imaging.status == "running"


def test_imaging_early_stops_the_sub_target() -> None:
    clock = mscc_clock(START, START + 5 * H, None, START + 30 * H)
    assert clock.imaging.status == "met" and clock.imaging.done
    assert clock.imaging.elapsed == 5 * H and clock.imaging.remaining == 19 * H
    assert clock.plan.status == "breached"
    assert clock.breached and not clock.met


def test_imaging_late_is_breached() -> None:
    clock = mscc_clock(START, START + 30 * H, None, START + 31 * H)
    assert clock.imaging.done and clock.imaging.status == "breached"
    assert clock.imaging.elapsed == 30 * H


@pytest.mark.parametrize("imaging_at", [START - 48 * H, START])
def test_imaging_not_later_than_start_does_not_count(imaging_at: datetime) -> None:
    clock = mscc_clock(START, imaging_at, None, START + 3 * H)
    assert not clock.imaging.done and clock.imaging.status == "running"
    assert clock.imaging.elapsed == 3 * H


def test_plan_recorded_meets_both() -> None:
    clock = mscc_clock(START, START + 2 * H, START + 20 * H, START + 40 * H)
    assert (clock.imaging.status, clock.plan.status) == ("met", "met")
    assert clock.plan.elapsed == 20 * H and clock.plan.remaining == 4 * H
    assert clock.met and not clock.breached


def test_clock_rejects_naive_and_reversed_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        mscc_clock(datetime(2025, 3, 3, 8), None, None, START)
    with pytest.raises(ValueError, match="before the clock started"):
        mscc_clock(START, None, None, START - H)
