"""spec 7: the six worked cases through `score_case`, every score, category and flag of their tables.

Inputs the case history leaves open are fixed as spec 7 says (no brain metastases, no myelopathy,
whole-spine MRI recorded, ...). Where a case gives no diagnosis date (cases 3 and 6) one is set:
it only feeds Rades, which stays incomplete for want of a motor deficit, as the tables say.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from scoring.rules.case_mapping import CaseFacts, LesionFacts, score_case
from scoring.rules.flags import (
    FLAG_BOLLEN_OUTSIDE_COHORT,
    FLAG_BOLLEN_PROFILE_ENTERED,
    FLAG_ESCC_BELOW_CONUS,
    FLAG_PROVISIONAL_BOLLEN,
    FLAG_PROVISIONAL_RADES,
    FLAG_TOKUHASHI_OTHERS,
    FLAG_UNKNOWN_NOT_LUNG,
    FLAG_VDL_NEURO_DEFICIT,
    FLAG_VERTEBRAL_FRACTURE_COUNTED,
)

REFERRAL = date(2025, 3, 10)
MRI_AT = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)


def months_ago(months: int) -> date:
    # Whole months of 30.4375 days (spec 4.7), rounded up to a day so the interval is just above.
    return REFERRAL - timedelta(days=int(months * 30.4375) + 1)


def days_ago(days: int) -> date:
    return REFERRAL - timedelta(days=days)


# Common defaults of spec 7: no brain metastases, no myelopathy, whole-spine MRI recorded.
def case(**fields: object) -> CaseFacts:
    defaults: dict[str, object] = {
        "referral_date": REFERRAL,
        "brain_metastases": False,
        "myelopathy": False,
        "motor_deficit": False,
        "whole_spine_imaging_at": MRI_AT,
        "extraspinal_pathological_fracture": False,
        "night_or_rest_pain": False,
    }
    return CaseFacts(**{**defaults, **fields})  # type: ignore[arg-type]


CASE_1 = case(
    primary="breast",
    primary_diagnosis_date=months_ago(60),
    kps=90,
    vertebrae_involved=1,
    extraspinal_bone_metastases=0,
    visceral_organs=(),
    lesions=(
        LesionFacts(
            level="L3",
            sins_pain="occasional_non_mechanical",
            bone_lesion="mixed",
            alignment="normal",
            collapse="none_over_50_involved",
            posterolateral="unilateral",
            escc_grade="0",
            pathological_fracture=False,
        ),
    ),
    frankel="E",
    ambulatory_status="independent",
)

CASE_2 = case(
    primary="lung_nsclc",
    primary_diagnosis_date=months_ago(8),
    kps=40,
    vertebrae_involved=4,
    extraspinal_bone_metastases=5,
    visceral_organs=("liver",),
    visceral_removable="unremovable",
    visceral_treatable="untreatable",
    brain_metastases=True,
    lesions=(
        LesionFacts(
            level="T11",
            is_index=True,
            sins_pain="mechanical",
            bone_lesion="lytic",
            alignment="normal",
            collapse="under_50",
            posterolateral="bilateral",
            escc_grade="3",
            pathological_fracture=True,
        ),
        LesionFacts(level="T6", is_index=False),
        LesionFacts(level="T8", is_index=False),
        LesionFacts(level="T9", is_index=False),
    ),
    myelopathy=True,
    frankel="B",
    ambulatory_status="non_ambulatory",
    motor_deficit=True,
    motor_deficit_onset=days_ago(3),
)

CASE_3 = case(
    primary="prostate",
    primary_diagnosis_date=months_ago(30),
    kps=70,
    vertebrae_involved=2,
    extraspinal_bone_metastases=2,
    visceral_organs=(),
    lesions=(
        LesionFacts(
            level="L1",
            is_index=True,
            sins_pain="occasional_non_mechanical",
            bone_lesion="mixed",
            alignment="normal",
            collapse="none_over_50_involved",
            posterolateral="unilateral",
            escc_grade="1b",
            pathological_fracture=False,
            mechanical_judgement="stable",
        ),
        LesionFacts(level="L4", is_index=False),
    ),
    frankel="E",
    ambulatory_status="independent",
)

CASE_4 = case(
    primary="kidney",
    primary_diagnosis_date=months_ago(40),
    kps=80,
    vertebrae_involved=2,
    extraspinal_bone_metastases=3,
    visceral_organs=(),
    lesions=(
        LesionFacts(
            level="T4",
            is_index=True,
            sins_pain="mechanical",
            bone_lesion="lytic",
            alignment="de_novo_deformity",
            collapse="over_50",
            posterolateral="unilateral",
            escc_grade="2",
            pathological_fracture=True,
            mechanical_judgement="unstable",
        ),
        LesionFacts(level="T9", is_index=False),
    ),
    frankel="D",
    ambulatory_status="independent",
    motor_deficit=True,
    motor_deficit_onset=days_ago(10),
    myelopathy=True,
)

CASE_5 = case(
    primary="unknown",
    primary_diagnosis_date=REFERRAL,  # diagnosed at this presentation: months_from_diagnosis 0
    kps=60,
    vertebrae_involved=1,
    extraspinal_bone_metastases=0,
    visceral_organs=("lung",),
    visceral_removable="removable",
    visceral_treatable="treatable",
    lesions=(
        LesionFacts(
            level="T8",
            sins_pain="pain_free",
            bone_lesion="blastic",
            alignment="normal",
            collapse="none",
            posterolateral="none",
            escc_grade="3",
            pathological_fracture=False,
        ),
    ),
    myelopathy=True,
    frankel="C",
    ambulatory_status="non_ambulatory",
    motor_deficit=True,
    motor_deficit_onset=days_ago(5),
)

CASE_6 = case(
    primary="myeloma",
    primary_diagnosis_date=months_ago(12),
    kps=80,
    vertebrae_involved=1,
    extraspinal_bone_metastases=1,
    visceral_organs=(),
    lesions=(
        LesionFacts(
            level="C7",
            sins_pain="mechanical",
            bone_lesion="lytic",
            alignment="subluxation_translation",
            collapse="over_50",
            posterolateral="bilateral",
            escc_grade="2",
            pathological_fracture=True,
        ),
    ),
    frankel="E",
    ambulatory_status="independent",
)

# (system, score, category, points in the spec's summing order or None, missing, flags)
Row = tuple[str, object, object, tuple[int, ...] | None, tuple[str, ...], set[str]]
INCOMPLETE = None

EXPECTED: dict[str, tuple[CaseFacts, list[Row]]] = {
    "case 1": (
        CASE_1,
        [
            ("performance_status", 90, "0", None, (), set()),
            ("sins", 6, "stable", (2, 1, 1, 0, 1, 1), (), set()),
            ("bilsky", "0", "low", None, (), {FLAG_ESCC_BELOW_CONUS}),
            ("tokuhashi_revised", 15, "gte_12_months", (2, 2, 2, 2, 5, 2), (), set()),
            ("tomita", 2, "long_term_control", (1, 0, 1), (), set()),
            ("bauer", 5, "good", (1, 1, 1, 1, 1), (), set()),
            ("bauer_modified", 4, "good", (1, 1, 1, 1), (), set()),
            ("van_der_linden", 6, "C", (2, 3, 1), (), set()),
            ("rades", INCOMPLETE, INCOMPLETE, None, ("motor_deficit_days",), {FLAG_PROVISIONAL_RADES}),
            ("bollen", "A", "A", None, (), {FLAG_PROVISIONAL_BOLLEN}),
            ("radiosensitivity", None, "radiosensitive", None, (), set()),
        ],
    ),
    "case 2": (
        CASE_2,
        [
            ("performance_status", 40, "3", None, (), set()),
            ("sins", 13, "unstable", (3, 3, 2, 0, 2, 3), (), set()),
            ("bilsky", "3", "high", None, (), set()),
            ("tokuhashi_revised", 0, "lt_6_months", (0, 0, 0, 0, 0, 0), (), set()),
            ("tomita", 10, "terminal_care", (4, 4, 2), (), set()),
            # flag-dependent: 1 without counting the vertebral fracture, still poor
            ("bauer", 0, "poor", (0, 0, 0, 0, 0), (), {FLAG_VERTEBRAL_FRACTURE_COUNTED}),
            ("bauer_modified", 0, "poor", (0, 0, 0, 0), (), set()),
            ("van_der_linden", 1, "A", (0, 1, 0), (), {FLAG_VDL_NEURO_DEFICIT}),
            ("rades", 20, "20_25", (3, 4, 2, 5, 3, 3), (), {FLAG_PROVISIONAL_RADES}),
            ("bollen", "D", "D", None, (), {FLAG_PROVISIONAL_BOLLEN}),
            ("radiosensitivity", None, "radioresistant", None, (), set()),
        ],
    ),
    "case 3": (
        CASE_3,
        [
            ("performance_status", 70, "1", None, (), set()),
            ("sins", 7, "potentially_unstable", (3, 1, 1, 0, 1, 1), (), set()),
            ("bilsky", "1b", "low", None, (), set()),
            ("tokuhashi_revised", 12, "gte_12_months", (1, 1, 1, 2, 5, 2), (), set()),
            ("tomita", 3, "long_term_control", (1, 0, 2), (), set()),
            ("bauer", 3, "intermediate", (1, 0, 1, 0, 1), (), set()),
            ("bauer_modified", 2, "intermediate", (1, 0, 1, 0), (), set()),
            ("van_der_linden", 4, "B", (1, 2, 1), (), set()),
            ("rades", INCOMPLETE, INCOMPLETE, None, ("motor_deficit_days",), {FLAG_PROVISIONAL_RADES}),
            ("bollen", "C", "C", None, (), {FLAG_PROVISIONAL_BOLLEN}),
            ("radiosensitivity", None, "radiosensitive", None, (), set()),
        ],
    ),
    "case 4": (
        CASE_4,
        [
            ("performance_status", 80, "1", None, (), set()),
            ("sins", 12, "potentially_unstable", (1, 3, 2, 2, 3, 1), (), set()),
            ("bilsky", "2", "high", None, (), set()),
            ("tokuhashi_revised", 9, "gte_6_months", (2, 0, 1, 2, 3, 1), (), set()),
            ("tomita", 4, "middle_term_control", (2, 0, 2), (), set()),
            # flag-dependent: 4, good, without counting the vertebral fracture
            ("bauer", 3, "intermediate", (1, 0, 1, 1, 0), (), {FLAG_VERTEBRAL_FRACTURE_COUNTED}),
            ("bauer_modified", 3, "good", (1, 0, 1, 1), (), set()),
            ("van_der_linden", 3, "A", (2, 0, 1), (), {FLAG_VDL_NEURO_DEFICIT}),
            ("rades", 35, "31_35", (4, 7, 7, 5, 7, 5), (), {FLAG_PROVISIONAL_RADES}),
            ("bollen", INCOMPLETE, INCOMPLETE, None, ("bollen_profile",), {FLAG_PROVISIONAL_BOLLEN}),
            ("radiosensitivity", None, "radioresistant", None, (), set()),
        ],
    ),
    "case 5": (
        CASE_5,
        [
            ("performance_status", 60, "2", None, (), set()),
            ("sins", 1, "stable", (1, 0, 0, 0, 0, 0), (), set()),
            ("bilsky", "3", "high", None, (), set()),
            ("tokuhashi_revised", 8, "lt_6_months", (1, 2, 2, 1, 1, 1), (), set()),
            ("tomita", 7, "short_term_palliation", (4, 2, 1), (), set()),
            # flag-dependent: 2 (bauer, still intermediate) and 1 (modified, poor) if unknown were lung
            ("bauer", 3, "intermediate", (0, 1, 1, 0, 1), (), {FLAG_UNKNOWN_NOT_LUNG}),
            ("bauer_modified", 2, "intermediate", (0, 1, 1, 0), (), {FLAG_UNKNOWN_NOT_LUNG}),
            ("van_der_linden", 1, "A", (1, 0, 0), (), {FLAG_VDL_NEURO_DEFICIT}),
            ("rades", 23, "20_25", (4, 4, 2, 7, 3, 3), (), {FLAG_PROVISIONAL_RADES}),
            (
                "bollen",
                INCOMPLETE,
                INCOMPLETE,
                None,
                ("bollen_profile",),
                {FLAG_PROVISIONAL_BOLLEN, FLAG_BOLLEN_OUTSIDE_COHORT},
            ),
            ("radiosensitivity", None, "unclassified", None, (), set()),
        ],
    ),
    "case 6": (
        CASE_6,
        [
            ("performance_status", 80, "1", None, (), set()),
            ("sins", 18, "unstable", (3, 3, 2, 4, 3, 3), (), set()),
            ("bilsky", "2", "high", None, (), set()),
            ("tokuhashi_revised", 11, "gte_6_months", (2, 1, 2, 2, 2, 2), (), {FLAG_TOKUHASHI_OTHERS}),
            ("tomita", INCOMPLETE, INCOMPLETE, None, ("primary_growth",), set()),
            # flag-dependent: 4, good, without counting the vertebral fracture
            ("bauer", 3, "intermediate", (1, 0, 1, 1, 0), (), {FLAG_VERTEBRAL_FRACTURE_COUNTED}),
            ("bauer_modified", 3, "good", (1, 0, 1, 1), (), set()),
            ("van_der_linden", 3, "A", (2, 0, 1), (), set()),
            ("rades", INCOMPLETE, INCOMPLETE, None, ("motor_deficit_days",), {FLAG_PROVISIONAL_RADES}),
            (
                "bollen",
                INCOMPLETE,
                INCOMPLETE,
                None,
                ("bollen_profile",),
                {FLAG_PROVISIONAL_BOLLEN, FLAG_BOLLEN_OUTSIDE_COHORT},
            ),
            ("radiosensitivity", None, "radiosensitive", None, (), set()),
        ],
    ),
}

PARAMS = [pytest.param(facts, row, id=f"{name}-{row[0]}") for name, (facts, rows) in EXPECTED.items() for row in rows]


@pytest.mark.parametrize(("facts", "row"), PARAMS)
def test_worked_case(facts: CaseFacts, row: Row) -> None:
    system, score, category, points, missing, flags = row
    result = score_case(facts)[system]
    assert result.missing == missing
    assert result.status == ("incomplete" if missing else "complete")
    assert result.score == score
    assert result.category == category
    assert set(result.flags) == flags
    if points is not None:
        assert tuple(item.points for item in result.items) == points
        assert sum(points) == result.score


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_system_is_scored(name: str) -> None:
    assert len(score_case(EXPECTED[name][0])) == 11


def test_case_4_with_moderate_bollen_profile_entered() -> None:
    result = score_case(replace(CASE_4, bollen_profile="moderate"))["bollen"]
    assert (result.score, result.category) == ("B", "B")
    assert set(result.flags) == {FLAG_PROVISIONAL_BOLLEN, FLAG_BOLLEN_PROFILE_ENTERED}


@pytest.mark.parametrize(
    ("facts", "without_fracture"),
    [(CASE_2, (1, "poor")), (CASE_4, (4, "good")), (CASE_6, (4, "good"))],
    ids=["case 2", "case 4", "case 6"],
)
def test_bauer_flag_dependent_alternative(facts: CaseFacts, without_fracture: tuple[int, str]) -> None:
    # spec 7: the alternative value when the vertebral fracture is not counted.
    lesions = tuple(replace(lesion, pathological_fracture=False) for lesion in facts.lesions)
    result = score_case(replace(facts, lesions=lesions))["bauer"]
    assert (result.score, result.category) == without_fracture
    assert FLAG_VERTEBRAL_FRACTURE_COUNTED not in result.flags


def test_case_5_flag_dependent_alternative_if_unknown_were_lung() -> None:
    # spec 7 case 5: scored as lung, bauer 2 (intermediate) and modified 1 (poor).
    results = score_case(replace(CASE_5, primary="lung_sclc"))
    assert (results["bauer"].score, results["bauer"].category) == (2, "intermediate")
    assert (results["bauer_modified"].score, results["bauer_modified"].category) == (1, "poor")
