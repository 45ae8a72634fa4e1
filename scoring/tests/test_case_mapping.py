"""spec 4.5-4.7 and the case flags of spec 3.12: from section data to every system's inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from scoring.rules.case_mapping import CaseFacts, LesionFacts, derive, index_lesion, score_case, score_lesion
from scoring.rules.flags import (
    FLAG_BOLLEN_PROFILE_ENTERED,
    FLAG_BRAIN_NOT_VISCERAL,
    FLAG_ESCC_BELOW_CONUS,
    FLAG_GROWTH_ENTERED,
    FLAG_KPS_CONVERTED,
    FLAG_RADES_ONSET_ON_REFERRAL_DAY,
    FLAG_RADES_TO_REFERRAL_DATE,
    FLAG_RADES_WITH_AID,
    FLAG_SINS_PAIN_HIGHEST,
    FLAG_TOKUHASHI_VISCERAL_NOT_SCORED,
    FLAG_VDL_KPS_10,
    FLAG_VDL_NEURO_DEFICIT,
    FLAG_VERTEBRAL_FRACTURE_COUNTED,
)

REFERRAL = date(2025, 6, 2)
MRI_AT = datetime(2025, 5, 30, 23, 15, tzinfo=UTC)

LESION = LesionFacts(
    level="T6",
    bone_lesion="lytic",
    alignment="normal",
    collapse="under_50",
    posterolateral="unilateral",
    escc_grade="2",
    pathological_fracture=False,
    sins_pain="occasional_non_mechanical",
)
# Every system complete: breast, MSCC with a motor deficit, recorded ambulatory.
FULL = CaseFacts(
    referral_date=REFERRAL,
    lesions=(LESION,),
    vertebrae_involved=2,
    extraspinal_bone_metastases=1,
    extraspinal_pathological_fracture=False,
    visceral_organs=(),
    brain_metastases=False,
    whole_spine_imaging_at=MRI_AT,
    frankel="E",
    myelopathy=False,
    motor_deficit=True,
    motor_deficit_onset=REFERRAL - timedelta(days=4),
    ambulatory_status="independent",
    primary="breast",
    primary_diagnosis_date=date(2020, 1, 15),
    kps=80,
    night_or_rest_pain=False,
)


def full(**changes: object) -> CaseFacts:
    return replace(FULL, **changes)  # type: ignore[arg-type]


def item_value(result_items: object, name: str) -> object:
    return {i.item: i.value for i in result_items}[name]  # type: ignore[attr-defined]


def test_full_case_is_complete_everywhere() -> None:
    results = score_case(FULL)
    assert {name: r.missing for name, r in results.items() if not r.is_complete} == {}


# --- spec 4.5: index lesion ----------------------------------------------------------------


@pytest.mark.parametrize("is_index", [None, False, True])
def test_single_lesion_is_the_index_by_default(is_index: bool | None) -> None:
    lesion = replace(LESION, is_index=is_index)
    assert index_lesion(full(lesions=(lesion,))) == lesion


def test_several_lesions_one_marked() -> None:
    t4, t9 = LesionFacts(level="T4", is_index=False), replace(LESION, level="T9", is_index=True)
    facts = full(lesions=(t4, t9))
    assert index_lesion(facts) == t9
    assert item_value(score_case(facts)["sins"].items, "location") == "semi_rigid"


@pytest.mark.parametrize(
    "lesions",
    [
        (),
        (LesionFacts(level="T4"), LesionFacts(level="T9")),
        (LesionFacts(level="T4", is_index=False), LesionFacts(level="T9", is_index=False)),
        (LesionFacts(level="T4", is_index=True), LesionFacts(level="T9", is_index=True)),
    ],
    ids=["no lesion", "none marked", "all unmarked", "two marked"],
)
def test_undecided_index_lesion(lesions: tuple[LesionFacts, ...]) -> None:
    facts = full(lesions=lesions)
    assert index_lesion(facts) is None
    results = score_case(facts)
    for name in ("sins", "bilsky"):
        assert (results[name].status, results[name].missing, results[name].items) == (
            "incomplete",
            ("index_lesion",),
            (),
        )


# --- per-lesion case flags --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pain", "night", "flagged"),
    [
        ("mechanical", True, True),
        ("mechanical", False, False),
        ("mechanical", None, False),
        ("occasional_non_mechanical", True, False),
        ("pain_free", True, False),
    ],
)
def test_sins_pain_flag(pain: str, night: bool | None, flagged: bool) -> None:
    result = score_lesion(replace(LESION, sins_pain=pain), full(night_or_rest_pain=night))["sins"]
    assert (FLAG_SINS_PAIN_HIGHEST in result.flags) == flagged
    assert item_value(result.items, "pain") == pain


@pytest.mark.parametrize(
    ("level", "flagged"),
    [("C7", False), ("T12", False), ("L1", False), ("L2", True), ("L5", True), ("S1", True), ("S5", True)],
)
def test_escc_below_the_conus_flag(level: str, flagged: bool) -> None:
    result = score_lesion(replace(LESION, level=level), FULL)["bilsky"]
    assert (FLAG_ESCC_BELOW_CONUS in result.flags) == flagged


def test_case_flags_only_on_complete_results() -> None:
    lesion = replace(LESION, level="L3", sins_pain="mechanical", escc_grade=None, bone_lesion=None)
    results = score_lesion(lesion, full(night_or_rest_pain=True))
    assert results["sins"].missing == ("bone_lesion",) and results["sins"].flags == ()
    assert results["bilsky"].missing == ("grade",) and results["bilsky"].flags == ()


def test_lesion_without_level_is_missing_level() -> None:
    assert score_lesion(replace(LESION, level=None), FULL)["sins"].missing == ("level",)


# --- spec 4.6: derived facts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vertebrae", "extraspinal", "solitary", "other_bone"),
    [
        (1, 0, True, False),
        (2, 0, False, True),
        (1, 1, False, True),
        (1, None, None, None),
        (None, 0, None, None),
        (2, None, False, True),
        (None, 3, False, True),
        (None, None, None, None),
    ],
)
def test_solitary_and_other_bone(
    vertebrae: int | None, extraspinal: int | None, solitary: bool | None, other_bone: bool | None
) -> None:
    derived = derive(full(vertebrae_involved=vertebrae, extraspinal_bone_metastases=extraspinal))
    assert (derived.solitary, derived.other_bone_metastases) == (solitary, other_bone)


@pytest.mark.parametrize(
    ("organs", "brain", "visceral", "visceral_or_brain", "major"),
    [
        ((), False, False, False, False),
        ((), True, False, True, True),
        ((), None, False, None, None),
        (None, False, None, None, None),
        (None, True, None, True, True),
        (("adrenal",), False, True, True, False),
        (("adrenal",), None, True, True, None),
        (("liver", "pleura"), False, True, True, True),
        (("kidney",), None, True, True, True),
    ],
)
def test_visceral_facts(
    organs: tuple[str, ...] | None, brain: bool | None, visceral: bool | None, visceral_or_brain: bool | None,
    major: bool | None,
) -> None:  # fmt: skip
    derived = derive(full(visceral_organs=organs, brain_metastases=brain))
    assert (derived.visceral, derived.visceral_or_brain, derived.tokuhashi_major_organ) == (
        visceral,
        visceral_or_brain,
        major,
    )


@pytest.mark.parametrize(
    ("grades", "imaging", "mscc_date"),
    [
        (("2",), MRI_AT, date(2025, 5, 30)),
        (("1c", "3"), MRI_AT, date(2025, 5, 30)),
        (("1c",), MRI_AT, None),
        ((None,), MRI_AT, None),
        (("3",), None, None),
    ],
)
def test_mscc_date(grades: tuple[str | None, ...], imaging: datetime | None, mscc_date: date | None) -> None:
    lesions = tuple(replace(LESION, level=f"T{i + 3}", escc_grade=g) for i, g in enumerate(grades))
    assert derive(full(lesions=lesions, whole_spine_imaging_at=imaging)).mscc_date == mscc_date


# --- performance status and KPS ------------------------------------------------------------------


def test_kps_recorded_wins_over_ecog() -> None:
    results = score_case(full(kps=50, ecog=0))
    assert (results["performance_status"].score, results["performance_status"].category) == (50, "2")
    for name in ("performance_status", "tokuhashi_revised", "van_der_linden", "bollen"):
        assert FLAG_KPS_CONVERTED not in results[name].flags


def test_ecog_only_is_converted_and_flagged_everywhere() -> None:
    results = score_case(full(kps=None, ecog=1))
    assert (results["performance_status"].score, results["performance_status"].category) == (80, "1")
    for name in ("performance_status", "tokuhashi_revised", "van_der_linden", "bollen"):
        assert FLAG_KPS_CONVERTED in results[name].flags, name
        assert item_value(results[name].items, "kps") == 80


def test_no_kps_and_no_ecog() -> None:
    results = score_case(full(kps=None, ecog=None))
    for name in ("performance_status", "tokuhashi_revised", "van_der_linden", "bollen"):
        assert results[name].missing == ("kps",), name


@pytest.mark.parametrize(("kps", "ecog"), [(0, None), (None, 5)])
def test_kps_0_is_outside_every_prognostic_table(kps: int | None, ecog: int | None) -> None:
    results = score_case(full(kps=kps, ecog=ecog))
    assert (results["performance_status"].score, results["performance_status"].category) == (0, "5")
    for name in ("tokuhashi_revised", "van_der_linden", "bollen"):
        assert results[name].missing == ("kps",), name
        assert FLAG_VDL_KPS_10 not in results[name].flags


def test_van_der_linden_kps_10() -> None:
    result = score_case(full(kps=10, frankel="C"))["van_der_linden"]
    assert (result.status, result.missing) == ("incomplete", ("kps",))
    assert result.flags == (FLAG_VDL_KPS_10,)
    assert score_case(full(kps=10))["tokuhashi_revised"].is_complete
    assert score_case(full(kps=10))["bollen"].is_complete


@pytest.mark.parametrize(
    ("changes", "flagged"),
    [
        ({}, False),
        ({"frankel": "D"}, True),
        ({"frankel": "A"}, True),
        ({"frankel": None, "motor_deficit": False}, False),
        ({"motor_deficit": True}, True),
        ({"motor_deficit": False, "myelopathy": True}, True),
        ({"motor_deficit": None, "myelopathy": None}, False),
    ],
)
def test_van_der_linden_neurological_deficit_flag(changes: dict[str, object], flagged: bool) -> None:
    base = full(motor_deficit=False, myelopathy=False, frankel="E")
    result = score_case(replace(base, **changes))["van_der_linden"]  # type: ignore[arg-type]
    assert (FLAG_VDL_NEURO_DEFICIT in result.flags) == flagged


# --- Tokuhashi and Tomita -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("organs", "brain", "removable", "expected", "flagged"),
    [
        ((), False, None, "none", False),
        (("adrenal", "pleura"), False, None, "none", True),
        (("adrenal",), True, "removable", "removable", False),
        (("liver",), False, "unremovable", "unremovable", False),
        ((), True, "removable", "removable", False),
    ],
)
def test_tokuhashi_major_organ_metastases(
    organs: tuple[str, ...], brain: bool, removable: str | None, expected: str, flagged: bool
) -> None:
    result = score_case(full(visceral_organs=organs, brain_metastases=brain, visceral_removable=removable))
    tok = result["tokuhashi_revised"]
    assert item_value(tok.items, "major_organ_metastases") == expected
    assert (FLAG_TOKUHASHI_VISCERAL_NOT_SCORED in tok.flags) == flagged


@pytest.mark.parametrize(("organs", "brain"), [(("liver",), False), (None, False), (("adrenal",), None)])
def test_tokuhashi_major_organ_missing(organs: tuple[str, ...] | None, brain: bool | None) -> None:
    result = score_case(full(visceral_organs=organs, brain_metastases=brain, visceral_removable=None))
    assert result["tokuhashi_revised"].missing == ("major_organ_metastases",)
    assert result["tokuhashi_revised"].flags == ()


def test_tokuhashi_counts_from_radiology() -> None:
    tok = score_case(full(vertebrae_involved=2, extraspinal_bone_metastases=4))["tokuhashi_revised"]
    assert item_value(tok.items, "vertebral_metastases") == 2
    assert item_value(tok.items, "extraspinal_bone_metastases") == 4


@pytest.mark.parametrize(
    ("organs", "treatable", "expected"),
    [((), None, "none"), (("liver",), "treatable", "treatable"), (("lung",), "untreatable", "untreatable")],
)
def test_tomita_visceral(organs: tuple[str, ...], treatable: str | None, expected: str) -> None:
    result = score_case(full(visceral_organs=organs, visceral_treatable=treatable))["tomita"]
    assert item_value(result.items, "visceral_metastases") == expected


def test_tomita_visceral_missing() -> None:
    assert score_case(full(visceral_organs=("liver",)))["tomita"].missing == ("visceral_metastases",)
    assert score_case(full(visceral_organs=None))["tomita"].missing == ("visceral_metastases",)


@pytest.mark.parametrize(
    ("vertebrae", "extraspinal", "bone"), [(1, 0, "solitary"), (2, 0, "multiple"), (1, 2, "multiple")]
)
def test_tomita_bone(vertebrae: int, extraspinal: int, bone: str) -> None:
    result = score_case(full(vertebrae_involved=vertebrae, extraspinal_bone_metastases=extraspinal))["tomita"]
    assert item_value(result.items, "bone_metastases") == bone


def test_tomita_growth_override_from_oncology() -> None:
    result = score_case(full(primary="myeloma", primary_growth="moderate"))["tomita"]
    assert result.is_complete and FLAG_GROWTH_ENTERED in result.flags
    assert score_case(full(primary="myeloma"))["tomita"].missing == ("primary_growth",)


# --- brain metastases not counted as visceral --------------------------------------------------------


@pytest.mark.parametrize(
    ("organs", "brain", "flagged"), [((), True, True), (("liver",), True, False), ((), False, False)]
)
def test_brain_not_visceral_flag(organs: tuple[str, ...], brain: bool, flagged: bool) -> None:
    results = score_case(full(visceral_organs=organs, brain_metastases=brain, visceral_treatable="treatable",
                              visceral_removable="removable"))  # fmt: skip
    for name in ("tomita", "van_der_linden", "rades"):
        assert results[name].is_complete
        assert (FLAG_BRAIN_NOT_VISCERAL in results[name].flags) == flagged, name
    for name in ("tokuhashi_revised", "bauer", "bollen"):
        assert FLAG_BRAIN_NOT_VISCERAL not in results[name].flags
    if brain and not organs:
        assert item_value(results["van_der_linden"].items, "visceral_metastases") is False
        assert item_value(results["bauer"].items, "visceral_or_brain_metastases") is True
        assert item_value(results["bollen"].items, "visceral_or_brain_metastases") is True


# --- Bauer fracture ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lesion_fractures", "extraspinal", "expected", "flagged"),
    [
        ((True,), False, True, True),
        ((True,), None, True, True),
        ((True, None), None, True, True),
        ((True,), True, True, False),
        ((False,), True, True, False),
        ((False, None), False, False, False),
        ((None,), False, False, False),
        ((), False, False, False),
        ((False,), None, None, False),
        ((), None, None, False),
    ],
)
def test_bauer_pathological_fracture(
    lesion_fractures: tuple[bool | None, ...], extraspinal: bool | None, expected: bool | None, flagged: bool
) -> None:
    lesions = tuple(
        replace(LESION, level=f"T{i + 3}", is_index=i == 0, pathological_fracture=f)
        for i, f in enumerate(lesion_fractures)
    )
    result = score_case(full(lesions=lesions, extraspinal_pathological_fracture=extraspinal))["bauer"]
    if expected is None:
        assert result.missing == ("pathological_fracture",)
        assert result.flags == ()
    else:
        assert item_value(result.items, "pathological_fracture") is expected
        assert (FLAG_VERTEBRAL_FRACTURE_COUNTED in result.flags) == flagged
    assert FLAG_VERTEBRAL_FRACTURE_COUNTED not in score_case(full(lesions=lesions))["bauer_modified"].flags


def test_bauer_solitary_and_visceral_from_derived_facts() -> None:
    result = score_case(full(vertebrae_involved=1, extraspinal_bone_metastases=0, visceral_organs=("adrenal",)))
    assert item_value(result["bauer"].items, "solitary_skeletal_metastasis") is True
    assert item_value(result["bauer_modified"].items, "visceral_or_brain_metastases") is True


# --- Rades ---------------------------------------------------------------------------------------------


def test_rades_interval_to_the_mscc_mri() -> None:
    result = score_case(FULL)["rades"]
    expected = (date(2025, 5, 30) - date(2020, 1, 15)).days / 30.4375
    assert item_value(result.items, "months_from_diagnosis") == expected
    assert FLAG_RADES_TO_REFERRAL_DATE not in result.flags


@pytest.mark.parametrize(
    "changes",
    [{"whole_spine_imaging_at": None}, {"lesions": (replace(LESION, escc_grade="1c"),)}],
    ids=["no whole-spine MRI", "no high-grade ESCC"],
)
def test_rades_interval_to_the_referral_date(changes: dict[str, object]) -> None:
    result = score_case(full(**changes))["rades"]
    assert item_value(result.items, "months_from_diagnosis") == (REFERRAL - date(2020, 1, 15)).days / 30.4375
    assert FLAG_RADES_TO_REFERRAL_DATE in result.flags


def test_rades_interval_of_15_months_is_unrounded() -> None:
    # 457 days = 15.01 months: more than 15, so 7 points.
    result = score_case(full(whole_spine_imaging_at=None, primary_diagnosis_date=REFERRAL - timedelta(days=457)))
    months = {i.item: i for i in result["rades"].items}["months_from_diagnosis"]
    assert (months.value, months.points) == (457 / 30.4375, 7)
    at_456 = score_case(full(whole_spine_imaging_at=None, primary_diagnosis_date=REFERRAL - timedelta(days=456)))
    assert {i.item: i.points for i in at_456["rades"].items}["months_from_diagnosis"] == 4


def test_rades_diagnosis_after_the_mri_counts_as_zero_months() -> None:
    result = score_case(full(primary_diagnosis_date=REFERRAL))["rades"]
    assert item_value(result.items, "months_from_diagnosis") == 0


def test_rades_without_diagnosis_date() -> None:
    result = score_case(full(primary_diagnosis_date=None))["rades"]
    assert result.missing == ("months_from_diagnosis",)
    assert FLAG_RADES_TO_REFERRAL_DATE not in result.flags


@pytest.mark.parametrize(
    ("motor_deficit", "onset_days_before", "days", "flagged"),
    [
        (True, 10, 10, False),
        (True, 1, 1, False),
        (True, 0, 1, True),  # onset on the referral day: minimum 1, flagged
        (True, -2, 1, False),  # onset after referral: minimum 1, not the flag's condition
        (True, None, None, False),
        (False, 10, None, False),
        (None, 10, None, False),
    ],
)
def test_rades_motor_deficit_days(
    motor_deficit: bool | None, onset_days_before: int | None, days: int | None, flagged: bool
) -> None:
    onset = None if onset_days_before is None else REFERRAL - timedelta(days=onset_days_before)
    result = score_case(full(motor_deficit=motor_deficit, motor_deficit_onset=onset))["rades"]
    if days is None:
        assert (result.status, result.missing) == ("incomplete", ("motor_deficit_days",))
    else:
        assert item_value(result.items, "motor_deficit_days") == days
    assert (FLAG_RADES_ONSET_ON_REFERRAL_DAY in result.flags) == flagged


@pytest.mark.parametrize(
    ("status", "ambulatory", "flagged"),
    [("independent", True, False), ("with_aid", True, True), ("non_ambulatory", False, False)],
)
def test_rades_ambulatory(status: str, ambulatory: bool, flagged: bool) -> None:
    result = score_case(full(ambulatory_status=status))["rades"]
    assert item_value(result.items, "ambulatory") is ambulatory
    assert (FLAG_RADES_WITH_AID in result.flags) == flagged


def test_rades_ambulatory_missing_and_no_flag_on_incomplete() -> None:
    assert score_case(full(ambulatory_status=None))["rades"].missing == ("ambulatory",)
    incomplete = score_case(full(ambulatory_status="with_aid", motor_deficit=False))["rades"]
    assert incomplete.missing == ("motor_deficit_days",)
    assert FLAG_RADES_WITH_AID not in incomplete.flags


def test_rades_other_bone_and_visceral() -> None:
    result = score_case(full(vertebrae_involved=1, extraspinal_bone_metastases=0, visceral_organs=("lung",)))
    assert item_value(result["rades"].items, "other_bone_metastases") is False
    assert item_value(result["rades"].items, "visceral_metastases") is True


# --- Bollen and radiosensitivity ----------------------------------------------------------------------


def test_bollen_profile_from_oncology() -> None:
    result = score_case(full(primary="kidney", bollen_profile="moderate"))["bollen"]
    assert (result.score, result.category) == ("B", "B")
    assert FLAG_BOLLEN_PROFILE_ENTERED in result.flags


def test_missing_primary_everywhere() -> None:
    results = score_case(full(primary=None))
    for name in ("tokuhashi_revised", "tomita", "bauer", "bauer_modified", "van_der_linden", "rades", "bollen",
                 "radiosensitivity"):  # fmt: skip
        assert "primary" in results[name].missing, name
    assert results["sins"].is_complete and results["performance_status"].is_complete
