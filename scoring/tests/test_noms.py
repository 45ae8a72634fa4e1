"""Spec 5: NOMS rules R1-R24, assembly, constraints C1-C7 and the worked cases of spec 7."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from scoring.rules.mscc import CaseInput, CaseInputError, CaseLesion
from scoring.rules.noms import (
    ENGINE_VERSION,
    GOOD_SURVIVAL_MONTHS,
    ConstraintViolation,
    Entry,
    OpenDecision,
    Option,
    Proposal,
    Radiation,
    check_constraints,
    mechanical_state,
    propose,
    solitary_metastasis,
    surgery_gate,
)

IMAGED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CONTRACT_KEYS = {
    "status",
    "urgency",
    "radiation",
    "surgery",
    "systemic",
    "supportive",
    "work_up",
    "open_decisions",
    "notes",
    "flags",
    "fired_rules",
    "missing",
    "missing_optional",
}


def lesion(level: str = "T8", **kw: Any) -> CaseLesion:
    """A stable, painless, bone-only index lesion unless told otherwise."""
    values: dict[str, Any] = {
        "is_index": True,
        "sins_total": 5,
        "escc_grade": "0",
        "mechanical_judgement": None,
        "pathological_fracture": False,
        "retropulsion": False,
        "sins_pain": "pain_free",
        "prior_surgery": False,
    }
    values.update(kw)
    return CaseLesion(level, **values)


def case(*lesions: CaseLesion, **kw: Any) -> CaseInput:
    """A complete case (spec 7 defaults: fit, imaged, no deficit) with two vertebrae involved."""
    values: dict[str, Any] = {
        "primary": "breast",
        "lesions": lesions or (lesion(),),
        "myelopathy": False,
        "motor_deficit": False,
        "bladder_bowel_dysfunction": False,
        "frankel": "E",
        "kps": 80,
        "expected_survival_months": 24,
        "fit_for_surgery": True,
        "systemic_control": "controlled",
        "vertebrae_involved": 2,
        "extraspinal_bone_metastases": 0,
        "visceral_organs": (),
        "brain_metastases": False,
        "whole_spine_imaging_at": IMAGED,
        "night_or_rest_pain": False,
        "surgery_recorded": True,
    }
    values.update(kw)
    return CaseInput(**values)


def fired(p: Proposal) -> list[str]:
    return list(p.fired_rule_ids)


def items(p: Proposal) -> list[tuple[str, str, str]]:
    return [(s.procedure, s.level, s.status) for s in p.surgery]


def options(p: Proposal) -> list[tuple[str, ...]]:
    return [tuple(str(o) for o in d.options) for d in p.open_decisions]


# ---------------------------------------------------------------------------------------------
# spec 7: the NOMS parts of the six worked cases

CASE_1 = case(
    lesion("L3", sins_total=6, escc_grade="0", sins_pain="occasional_non_mechanical"),
    primary="breast",
    kps=90,
    vertebrae_involved=1,
    extraspinal_bone_metastases=0,
    expected_survival_months=36,
)
CASE_2 = case(
    lesion("T11", sins_total=13, escc_grade="3", sins_pain="mechanical", pathological_fracture=True),
    primary="lung_nsclc",
    kps=40,
    vertebrae_involved=4,
    extraspinal_bone_metastases=5,
    visceral_organs=("liver",),
    brain_metastases=True,
    myelopathy=True,
    motor_deficit=True,
    frankel="B",
    fit_for_surgery=False,
    fit_for_surgery_reason="poor general condition",
    expected_survival_months=1.5,
    systemic_control=None,
)
CASE_3 = case(
    lesion("L1", sins_total=7, escc_grade="1b", sins_pain="occasional_non_mechanical", mechanical_judgement="stable"),
    primary="prostate",
    kps=70,
    vertebrae_involved=2,
    extraspinal_bone_metastases=2,
    systemic_control=None,
)
CASE_4 = case(
    lesion(
        "T4",
        sins_total=12,
        escc_grade="2",
        sins_pain="mechanical",
        pathological_fracture=True,
        mechanical_judgement="unstable",
    ),
    primary="kidney",
    kps=80,
    vertebrae_involved=2,
    extraspinal_bone_metastases=3,
    frankel="D",
    motor_deficit=True,
    myelopathy=True,
    expected_survival_months=18,
    systemic_control=None,
)
CASE_5 = case(
    lesion("T8", sins_total=1, escc_grade="3", sins_pain="pain_free"),
    primary="unknown",
    kps=60,
    vertebrae_involved=1,
    extraspinal_bone_metastases=0,
    visceral_organs=("lung",),
    myelopathy=True,
    motor_deficit=True,
    frankel="C",
    expected_survival_months=4,
    systemic_control=None,
)
CASE_6 = case(
    lesion("C7", sins_total=18, escc_grade="2", sins_pain="mechanical", pathological_fracture=True),
    primary="myeloma",
    kps=80,
    vertebrae_involved=1,
    extraspinal_bone_metastases=1,
    expected_survival_months=24,
    systemic_control=None,
)


@pytest.mark.parametrize(
    ("inputs", "rules", "modality", "surgery", "urgency"),
    [
        pytest.param(
            CASE_1,
            ["R1", "R14", "R15", "R19", "R20"],
            "cebrt",
            [("en_bloc_resection", "L3", "candidate")],
            "routine",
            id="case1-breast-solitary",
        ),
        pytest.param(
            CASE_2,
            ["R7", "R10", "R11", "R12", "R13", "R19", "R21"],
            "cebrt",
            [("decompression", "T11", "withheld"), ("stabilisation", "T11", "withheld")],
            "emergency",
            id="case2-nsclc-poor",
        ),
        pytest.param(CASE_3, ["R1", "R8", "R14", "R19"], "cebrt", [], "routine", id="case3-prostate"),
        pytest.param(
            CASE_4,
            ["R3", "R8", "R10", "R16", "R19", "R20", "R21"],
            "srs",
            [("separation_surgery", "T4", "proposed")],
            "emergency",
            id="case4-rcc",
        ),
        pytest.param(CASE_5, ["R6", "R10", "R17", "R19", "R21"], "open", [], "emergency", id="case5-unknown"),
        pytest.param(
            CASE_6,
            ["R1", "R7", "R14", "R19", "R20"],
            "cebrt",
            [("stabilisation", "C7", "proposed")],
            "urgent",
            id="case6-myeloma",
        ),
    ],
)
def test_worked_cases(
    inputs: CaseInput, rules: list[str], modality: str, surgery: list[tuple[str, str, str]], urgency: str
) -> None:
    p = propose(inputs)
    assert p.status == "complete"
    assert fired(p) == rules
    assert p.radiation.modality == modality
    assert items(p) == surgery
    assert p.urgency == urgency
    assert "bone_targeted_agent" in {e.code for e in p.supportive}


def test_case_1_details() -> None:
    p = propose(CASE_1)
    assert p.radiation.fractionation == "multiple fractions"
    assert p.radiation.rules == ("R1", "R14", "R20")
    assert "either order" in (p.radiation.timing or "")
    assert p.surgery[0].rules == ("R15",)


def test_case_2_details() -> None:
    p = propose(CASE_2)
    assert {s.rules for s in p.surgery} == {("R7", "R11", "R12", "R13"), ("R10", "R11", "R12", "R13")}
    assert {e.code for e in p.supportive} == {"palliative_care", "bone_targeted_agent", "dexamethasone"}
    assert p.open_decisions == ()
    assert "poor general condition" in " ".join(n.text for n in p.notes)


def test_case_3_variant_without_judgement_opens_mechanical_stability() -> None:
    p = propose(replace(CASE_3, lesions=(replace(CASE_3.lesions[0], mechanical_judgement=None),)))
    assert p.radiation.modality == "cebrt"
    assert [d.question for d in p.open_decisions] == ["Mechanical stability of L1"]
    assert options(p) == [("stable", "unstable")]
    assert p.open_decisions[0].rules == ("R8",)
    assert p.missing_optional == ("lesions[L1].mechanical_judgement",)
    assert p.status == "complete"


def test_case_4_separation_surgery_then_srs() -> None:
    p = propose(CASE_4)
    assert p.surgery[0].rules == ("R3", "R8", "R10")
    assert p.radiation.timing == "SRS 2-4 weeks after separation surgery"
    assert p.radiation.fractionation == "1-5 fractions"
    assert (
        "High-grade ESCC (Bilsky 2) with radioresistant histology (kidney, renal cell) and expected survival "
        "18 months" in p.fired_rules[0].text
    )
    assert {n.code for n in p.notes} >= {"hypervascular", "mscc_checklist"}


def test_case_5_open_radiation_and_parallel_work_up() -> None:
    p = propose(CASE_5)
    # assembly order (spec 5.4): R10 in step 3, the radiation rule in step 4
    assert options(p) == [("immediate decompression", "urgent radiotherapy"), ("cEBRT", "separation surgery then SRS")]
    assert [d.rules for d in p.open_decisions] == [("R10",), ("R6",)]
    work_up = {e.code: e for e in p.work_up}
    assert "never delays" in work_up["unknown_primary_work_up"].text
    assert "histology_and_radiation_oncology" in work_up


def test_case_6_stabilisation_first() -> None:
    p = propose(CASE_6)
    assert p.radiation.timing == "at least 7 days after stabilisation C7"
    assert p.radiation.after_surgery


# ---------------------------------------------------------------------------------------------
# spec 5.3 R1-R6: the radiation matrix, rs x escc_class x gate

RS_PRIMARY = {"sensitive": "breast", "resistant": "kidney", "unclassified": "stomach"}
ESCC = {"low": "1a", "borderline": "1c", "high": "3"}
GATES = {
    "allowed": {"fit_for_surgery": True, "expected_survival_months": 24},
    "open": {"fit_for_surgery": True, "expected_survival_months": 2.5},
    "excluded": {"fit_for_surgery": False, "fit_for_surgery_reason": "cardiac failure", "expected_survival_months": 24},
}
CEBRT, SRS, SEP = "cEBRT", "SRS", "separation surgery then SRS"
MATRIX = [
    # rs, escc, gate, radiation rule, modality, open-decision options, surgery items
    *[("sensitive", e, g, "R1", "cebrt", [], []) for e in ESCC for g in GATES],
    *[("resistant", "low", g, "R2", "srs", [], []) for g in GATES],
    ("resistant", "borderline", "allowed", "R5", "srs", [(SRS, SEP)], []),
    ("resistant", "borderline", "open", "R5", "srs", [(SRS, SEP)], []),
    ("resistant", "borderline", "excluded", "R5", "srs", [(SRS,)], []),
    ("resistant", "high", "allowed", "R3", "srs", [], [("separation_surgery", "T8", "proposed")]),
    ("resistant", "high", "open", "R4", "open", [(SEP, CEBRT)], []),
    ("resistant", "high", "excluded", "R4", "cebrt", [], []),
    *[("unclassified", e, g, "R6", "open", [(CEBRT, SRS)], []) for e in ("low", "borderline") for g in GATES],
    ("unclassified", "high", "allowed", "R6", "open", [(CEBRT, SEP)], []),
    ("unclassified", "high", "open", "R6", "open", [(CEBRT, SEP)], []),
    ("unclassified", "high", "excluded", "R6", "open", [(CEBRT,)], []),
]


@pytest.mark.parametrize(
    ("rs", "escc", "gate", "rule", "modality", "decisions", "surgery"),
    MATRIX,
    ids=[f"{m[0]}-{m[1]}-{m[2]}" for m in MATRIX],
)
def test_radiation_matrix(
    rs: str,
    escc: str,
    gate: str,
    rule: str,
    modality: str,
    decisions: list[tuple[str, ...]],
    surgery: list[tuple[str, str, str]],
) -> None:
    p = propose(case(lesion(escc_grade=ESCC[escc]), primary=RS_PRIMARY[rs], **GATES[gate]))
    radiation_rules = {"R1", "R2", "R3", "R4", "R5", "R6", "R11"} & set(fired(p))
    assert radiation_rules == {rule}
    assert p.radiation.modality == modality
    assert rule in p.radiation.rules
    assert options(p) == decisions
    assert items(p) == surgery


def test_r1_solid_motor_deficit_note_only_for_solid_tumours() -> None:
    solid = propose(case(lesion(escc_grade="3"), primary="prostate", motor_deficit=True))
    haem = propose(case(lesion(escc_grade="3"), primary="lymphoma", motor_deficit=True))
    note = (
        "the review names only haematological tumours as completely radiosensitive; board confirms radiotherapy "
        "over decompression"
    )
    assert [n.text.lower() for n in solid.notes if n.code == "radiosensitive_solid_motor_deficit"] == [note]
    assert not [n for n in haem.notes if n.code == "radiosensitive_solid_motor_deficit"]
    assert solid.radiation.modality == haem.radiation.modality == "cebrt"
    assert "R10" not in fired(solid) and "R10" not in fired(haem)


def test_r1_without_motor_deficit_has_no_note() -> None:
    p = propose(case(lesion(escc_grade="3"), primary="breast"))
    assert not [n for n in p.notes if n.code == "radiosensitive_solid_motor_deficit"]


def test_r2_srs_fractionation() -> None:
    p = propose(case(lesion(escc_grade="1b"), primary="melanoma"))
    assert (p.radiation.modality, p.radiation.fractionation) == ("srs", "1-5 fractions")


def test_r4_open_gate_cites_r12() -> None:
    p = propose(case(lesion(escc_grade="2"), primary="sarcoma", **GATES["open"]))
    assert p.open_decisions[0].rules == ("R4", "R12")
    assert p.radiation.rules == ("R4",)


def test_r5_excluded_gate_keeps_only_srs_and_cites_gate() -> None:
    p = propose(case(lesion(escc_grade="1c"), primary="thyroid", **GATES["excluded"]))
    assert options(p) == [("SRS",)]
    assert p.open_decisions[0].rules == ("R5", "R13")


# ---------------------------------------------------------------------------------------------
# spec 5.3 R7-R13 and their interplay with the gate (spec 5.4 step 6)


def test_mechanical_state() -> None:
    assert mechanical_state(None, "stable") is None
    assert [mechanical_state(s, None) for s in (0, 6, 7, 12, 13, 18)] == [
        "stable",
        "stable",
        "pending",
        "pending",
        "unstable",
        "unstable",
    ]
    assert mechanical_state(9, "stable") == "stable"
    assert mechanical_state(9, "unstable") == "unstable"
    assert mechanical_state(14, "stable") == "unstable"  # a judgement does not lower SINS 13-18


def test_surgery_gate() -> None:
    assert surgery_gate(False, 50) == "excluded"
    assert surgery_gate(False, None) == "excluded"
    assert surgery_gate(True, 2) == "excluded"
    assert surgery_gate(None, 1) == "excluded"
    assert surgery_gate(True, 2.01) == "open"
    assert surgery_gate(True, 2.99) == "open"
    assert surgery_gate(True, 3) == "allowed"
    assert surgery_gate(None, 10) is None
    assert surgery_gate(True, None) is None


def test_r7_every_lesion_and_surgery_first() -> None:
    p = propose(case(lesion("T8", sins_total=14), lesion("L2", is_index=False, sins_total=13)))
    assert items(p) == [("stabilisation", "T8", "proposed"), ("stabilisation", "L2", "proposed")]
    assert "SINS 14 at T8, SINS 13 at L2" in p.fired_rules[1].text
    assert p.radiation.timing == "at least 7 days after stabilisation T8, stabilisation L2"


def test_r8_three_branches_per_lesion() -> None:
    p = propose(
        case(
            lesion("T5", sins_total=9, mechanical_judgement="unstable"),
            lesion("T9", is_index=False, sins_total=8, mechanical_judgement="stable"),
            lesion("L3", is_index=False, sins_total=10),
        )
    )
    assert fired(p)[:2] == ["R1", "R8"]
    assert items(p) == [("stabilisation", "T5", "proposed")]
    assert p.surgery[0].rules == ("R8",)
    assert [d.question for d in p.open_decisions] == ["Mechanical stability of L3"]
    assert [n.text for n in p.notes if n.code == "surgical_consultation"] == [
        "Spine surgeon consultation on the stability of T5 (SINS 9)",
        "Spine surgeon consultation on the stability of T9 (SINS 8)",
        "Spine surgeon consultation on the stability of L3 (SINS 10)",
    ]
    assert p.missing_optional == ("lesions[L3].mechanical_judgement",)


def test_r8_does_not_fire_outside_7_12() -> None:
    assert "R8" not in fired(propose(case(lesion(sins_total=6))))
    assert "R8" not in fired(propose(case(lesion(sins_total=13))))


R9_BASE = {"sins_total": 4, "pathological_fracture": True, "sins_pain": "mechanical", "retropulsion": False}


def test_r9_cement_candidate() -> None:
    p = propose(case(lesion("L1", **R9_BASE)))
    assert items(p) == [("cement_augmentation", "L1", "candidate")]
    assert "R20" in fired(p)


@pytest.mark.parametrize(
    "change",
    [
        {"pathological_fracture": False},
        {"sins_pain": "pain_free"},
        {"retropulsion": True},
        {"sins_total": 14},
        {"sins_total": 9},
        {"sins_total": 9, "mechanical_judgement": "unstable"},
    ],
)
def test_r9_needs_every_condition(change: dict[str, Any]) -> None:
    p = propose(case(lesion("L1", **{**R9_BASE, **change})))
    assert "R9" not in fired(p)
    assert ("cement_augmentation", "L1", "candidate") not in items(p)


def test_r9_on_a_lesion_judged_stable() -> None:
    p = propose(case(lesion("L1", **{**R9_BASE, "sins_total": 9, "mechanical_judgement": "stable"})))
    assert "R9" in fired(p)


@pytest.mark.parametrize("blank", ["pathological_fracture", "retropulsion", "sins_pain"])
def test_r9_blank_input_is_missing_optional(blank: str) -> None:
    p = propose(case(lesion("L1", **{**R9_BASE, blank: None})))
    assert "R9" not in fired(p)
    assert p.status == "complete"
    assert p.missing_optional == (f"lesions[L1].{blank}",)


def test_r10_radioresistant_low_grade_decompression_then_srs() -> None:
    p = propose(case(lesion("T6", escc_grade="1b"), primary="colon", motor_deficit=True))
    assert items(p) == [("decompression", "T6", "proposed")]
    assert p.radiation.modality == "srs"
    assert p.radiation.after_surgery
    assert p.radiation.timing == "at least 7 days after decompression T6"


def test_r10_merges_into_separation_surgery_with_stabilisation() -> None:
    p = propose(
        case(
            lesion("T6", escc_grade="2", sins_total=15),
            lesion("T10", is_index=False, sins_total=13),
            primary="liver",
            motor_deficit=True,
        )
    )
    assert items(p) == [("separation_surgery", "T6", "proposed"), ("stabilisation", "T10", "proposed")]
    assert p.surgery[0].rules == ("R3", "R7", "R10")
    assert p.radiation.timing == "SRS 2-4 weeks after separation surgery; at least 7 days after stabilisation T10"


def test_r10_unclassified_open_decision_and_excluded_gate() -> None:
    p = propose(case(lesion(escc_grade="2"), primary="bladder", motor_deficit=True))
    assert ("immediate decompression", "urgent radiotherapy") in options(p)
    excluded = propose(case(lesion(escc_grade="2"), primary="bladder", motor_deficit=True, **GATES["excluded"]))
    r10 = [d for d in excluded.open_decisions if "R10" in d.rules]
    assert [d.options for d in r10] == [(Option.URGENT_RADIOTHERAPY,)]
    assert r10[0].rules == ("R10", "R13")


@pytest.mark.parametrize("primary", ["breast", "myeloma", "lymphoma"])
def test_r10_not_for_radiosensitive_or_haematological(primary: str) -> None:
    assert "R10" not in fired(propose(case(lesion(escc_grade="3"), primary=primary, motor_deficit=True)))


def test_r11_poor_condition_very_short_survival() -> None:
    p = propose(case(lesion(escc_grade="3", sins_total=14), primary="kidney", kps=30, expected_survival_months=2))
    assert fired(p) == ["R7", "R11", "R12", "R16", "R19"]
    assert p.radiation.modality == "cebrt" and p.radiation.rules == ("R11",)
    assert items(p) == [("stabilisation", "T8", "withheld")]
    assert p.surgery[0].rules == ("R7", "R11", "R12")
    assert "palliative_care" in {e.code for e in p.supportive}


def test_r11_unclassified_is_open_with_single_cebrt_option() -> None:
    p = propose(case(lesion(escc_grade="3"), primary="pancreas", kps=40, expected_survival_months=1))
    assert p.radiation.modality == "open"
    assert options(p) == [("cEBRT",)]
    assert "R6" not in fired(p)


@pytest.mark.parametrize(("kps", "es", "r11"), [(40, 2, True), (50, 2, False), (40, 2.5, False), (10, 0, True)])
def test_r11_boundaries(kps: int, es: float, r11: bool) -> None:
    assert ("R11" in fired(propose(case(kps=kps, expected_survival_months=es)))) is r11


def test_r12_open_gate_turns_items_into_open_decision() -> None:
    p = propose(
        case(
            lesion("T12", sins_total=13, **{"pathological_fracture": True}),
            lesion("L4", is_index=False, **R9_BASE),
            expected_survival_months=2.5,
        )
    )
    assert items(p) == [("stabilisation", "T12", "open"), ("cement_augmentation", "L4", "open")]
    assert all("R12" in s.rules for s in p.surgery)
    decision = p.open_decisions[-1]
    assert decision.question == (
        "Surgery with expected survival between 2 and 3 months (2.5 months): stabilisation T12, cement augmentation L4"
    )
    assert decision.options == (Option.PROCEED_WITH_SURGERY, Option.NO_SURGERY)
    assert decision.rules == ("R7", "R9", "R12")
    assert "R20" not in fired(p)  # nothing proposed or candidate


@pytest.mark.parametrize(("es", "status", "r12"), [(2, "withheld", True), (2.5, "open", True), (3, "proposed", False)])
def test_r12_boundaries(es: float, status: str, r12: bool) -> None:
    p = propose(case(lesion(sins_total=15), expected_survival_months=es))
    assert items(p) == [("stabilisation", "T8", status)]
    assert ("R12" in fired(p)) is r12


def test_r13_withholds_with_reason() -> None:
    p = propose(case(lesion(sins_total=15), **GATES["excluded"]))
    assert items(p) == [("stabilisation", "T8", "withheld")]
    assert p.surgery[0].rules == ("R7", "R13")
    assert [n.text for n in p.notes if n.code == "not_fit_for_surgery"] == ["Not fit for surgery: cardiac failure"]
    blank = propose(case(fit_for_surgery=False))
    assert [n.text for n in blank.notes if n.code == "not_fit_for_surgery"] == [
        "Not fit for surgery: reason not recorded"
    ]


# ---------------------------------------------------------------------------------------------
# spec 5.3 R14-R24


def test_r14_good_survival_is_a_named_product_convention() -> None:
    assert GOOD_SURVIVAL_MONTHS == 6
    at = propose(case(expected_survival_months=6))
    below = propose(case(expected_survival_months=5.9))
    assert "R14" in fired(at) and at.radiation.fractionation == "multiple fractions"
    assert "product convention" in next(r.text for r in at.fired_rules if r.rule == "R14")
    assert "R14" not in fired(below) and below.radiation.fractionation is None


def test_r14_not_for_srs() -> None:
    assert "R14" not in fired(propose(case(primary="kidney", expected_survival_months=40)))


SOLITARY = {"vertebrae_involved": 1, "extraspinal_bone_metastases": 0, "visceral_organs": (), "brain_metastases": False}


@pytest.mark.parametrize(
    ("primary", "note"),
    [
        ("thyroid", "En bloc resection especially appropriate (hypervascular)"),
        ("kidney", "En bloc resection especially appropriate (hypervascular)"),
        ("other", "If pheochromocytoma, en bloc is preferred (sympathomimetic risk)"),
        ("prostate", None),
    ],
)
def test_r15_en_bloc_candidate(primary: str, note: str | None) -> None:
    p = propose(case(lesion("L2"), primary=primary, **SOLITARY))
    assert ("en_bloc_resection", "L2", "candidate") in items(p)
    assert [n.text for n in p.notes if n.code.startswith("en_bloc")] == ([note] if note else [])


@pytest.mark.parametrize(
    "change",
    [
        {"systemic_control": "uncontrolled"},
        {"systemic_control": "not_assessed"},
        {"vertebrae_involved": 2},
        {"extraspinal_bone_metastases": 1},
        {"visceral_organs": ("adrenal",)},
        {"brain_metastases": True},
        {"expected_survival_months": 2.5},
        {"fit_for_surgery": False},
    ],
)
def test_r15_needs_every_condition(change: dict[str, Any]) -> None:
    p = propose(case(**{**SOLITARY, **change}))
    assert "R15" not in fired(p)
    assert "en_bloc_resection" not in {s.procedure for s in p.surgery}


def test_r15_blank_inputs_are_missing_optional() -> None:
    p = propose(case(**{**SOLITARY, "systemic_control": None, "brain_metastases": None}))
    assert p.status == "complete"
    assert "R15" not in fired(p)
    assert p.missing_optional == ("systemic_control", "brain_metastases")


def test_solitary_metastasis_three_valued() -> None:
    assert solitary_metastasis(case(**SOLITARY)) is True
    assert solitary_metastasis(case(**{**SOLITARY, "vertebrae_involved": None})) is None
    assert solitary_metastasis(case(**{**SOLITARY, "vertebrae_involved": 3, "visceral_organs": None})) is False
    assert solitary_metastasis(case(**{**SOLITARY, "visceral_organs": None, "brain_metastases": True})) is False


@pytest.mark.parametrize(("primary", "r16"), [("kidney", True), ("thyroid", True), ("breast", False)])
def test_r16_hypervascular(primary: str, r16: bool) -> None:
    assert ("R16" in fired(propose(case(primary=primary)))) is r16


def test_r17_unknown_primary_work_up() -> None:
    p = propose(case(primary="unknown"))
    work_up = next(e for e in p.work_up if e.code == "unknown_primary_work_up")
    for test in ("tumour markers", "PSA", "thyroid function", "protein electrophoresis", "PET/CT", "biopsy last"):
        assert test in work_up.text
    assert "never delays" not in work_up.text  # not an emergency


@pytest.mark.parametrize(("primary", "r18"), [("lymphoma", True), ("germ_cell", True), ("myeloma", False)])
def test_r18_chemosensitive(primary: str, r18: bool) -> None:
    p = propose(case(primary=primary))
    assert ("R18" in fired(p)) is r18
    assert p.radiation.modality == "cebrt"  # R1 stays proposed
    assert bool(p.systemic) is r18


def test_r19_always_even_when_incomplete() -> None:
    for inputs in (case(), CaseInput()):
        p = propose(inputs)
        assert "R19" in fired(p)
        assert ("bone_targeted_agent", "Bone-targeted agent: bisphosphonate or denosumab") in [
            (e.code, e.text) for e in p.supportive
        ]


def test_r20_absent_without_surgery() -> None:
    p = propose(case())
    assert "R20" not in fired(p) and p.radiation.timing is None


def test_r21_dexamethasone_is_the_review_5_regimen() -> None:
    p = propose(case(myelopathy=True, corticosteroid_dose="dexamethasone 4 mg/day"))
    dex = next(e for e in p.supportive if e.code == "dexamethasone")
    assert dex.text.startswith(
        "Dexamethasone 8 mg i.v. bolus, then 8 mg every 12 hours (i.v., i.m. or p.o.); taper after definitive treatment"
    )
    assert "dexamethasone 4 mg/day" in dex.text
    for wrong in ("96", "10 mg", "16 mg"):
        assert wrong not in dex.text
    assert p.urgency == "emergency"


def test_r21_absent_without_trigger() -> None:
    p = propose(case(lesion(escc_grade="3")))
    assert "R21" not in fired(p)
    assert "dexamethasone" not in {e.code for e in p.supportive}
    assert p.urgency == "urgent"


@pytest.mark.parametrize(("text", "r22"), [("EGFR exon 19 deletion", True), ("", False), ("  ", False), (None, False)])
def test_r22_targetable_alteration(text: str | None, r22: bool) -> None:
    p = propose(case(molecular_alterations=text))
    assert ("R22" in fired(p)) is r22
    if r22:
        assert "EGFR exon 19 deletion" in next(r.text for r in p.fired_rules if r.rule == "R22")


def test_r23_whole_spine_mri_when_not_imaged() -> None:
    p = propose(case(whole_spine_imaging_at=None))
    assert [e.code for e in p.work_up] == ["whole_spine_mri"]
    assert "no plain radiograph or bone scan first" in p.work_up[0].text


def test_r24_reirradiation_only_at_index_level() -> None:
    at_index = propose(case(lesion("T8"), prior_radiotherapy_levels=("T8",)))
    elsewhere = propose(case(lesion("T8"), prior_radiotherapy_levels=("T2",)))
    assert "R24" in fired(at_index) and "R24" not in fired(elsewhere)


# ---------------------------------------------------------------------------------------------
# spec 5.1 incomplete inputs


def test_incomplete_lists_missing_and_proposes_no_treatment() -> None:
    inputs = CaseInput(
        primary="unknown",
        lesions=(lesion(escc_grade=None, sins_total=None),),
        myelopathy=True,
        prior_radiotherapy_levels=("T8",),
        molecular_alterations="KRAS G12C",
    )
    p = propose(inputs)
    assert p.status == "incomplete"
    assert p.missing == ("escc_grade", "sins", "motor_deficit", "kps", "expected_survival_months", "fit_for_surgery")
    assert p.radiation == Radiation()
    assert p.surgery == () and p.open_decisions == ()
    assert fired(p) == ["R17", "R19", "R21", "R22", "R23", "R24"]
    assert p.urgency == "emergency"
    assert p.to_dict()["radiation"] == {"modality": None, "fractionation": None, "timing": None, "rules": []}


def test_index_lesion_missing_with_several_unmarked() -> None:
    p = propose(case(lesion("T4", is_index=False), lesion("T9", is_index=False)))
    assert p.missing == ("index_lesion",)
    assert p.status == "incomplete"


def test_single_lesion_is_index_by_default() -> None:
    assert propose(case(lesion("T4", is_index=False))).status == "complete"


def test_null_is_not_false() -> None:
    p = propose(case(motor_deficit=None, fit_for_surgery=None))
    assert p.missing == ("motor_deficit", "fit_for_surgery")


def test_kps_from_ecog_is_flagged() -> None:
    p = propose(case(kps=None, ecog=3, expected_survival_months=1.5))
    assert p.flags == ("KPS converted from ECOG",)
    assert "R11" in fired(p)  # ECOG 3 -> KPS 40


def test_input_validation() -> None:
    with pytest.raises(CaseInputError, match="kps"):
        case(kps=75)
    with pytest.raises(CaseInputError, match="escc_grade"):
        lesion(escc_grade="1d")
    with pytest.raises(CaseInputError, match="sins_total"):
        lesion(sins_total=19)
    with pytest.raises(CaseInputError, match="lesions"):
        case(lesion("T4"), lesion("T4", is_index=False))
    with pytest.raises(CaseInputError, match="expected_survival_months"):
        case(expected_survival_months=float("nan"))
    with pytest.raises(CaseInputError, match="whole_spine_imaging_at"):
        case(whole_spine_imaging_at=datetime(2025, 1, 1))  # noqa: DTZ001 - the naive value under test


# ---------------------------------------------------------------------------------------------
# Output shape (contract "GET /api/v1/cases/<id>/recommendation/")


def test_to_dict_is_the_contract_shape() -> None:
    d = propose(CASE_4).to_dict()
    assert set(d) == CONTRACT_KEYS
    assert set(d["radiation"]) == {"modality", "fractionation", "timing", "rules"}
    assert set(d["surgery"][0]) == {"procedure", "level", "status", "rules"}
    assert set(d["supportive"][0]) == {"code", "text", "rules"}
    assert set(d["fired_rules"][0]) == {"rule", "spec", "review", "text"}
    assert d["fired_rules"][0] == {
        "rule": "R3",
        "spec": "5.3",
        "review": "4.6, 4.5",
        "text": propose(CASE_4).fired_rules[0].text,
    }
    d5 = propose(CASE_5).to_dict()
    assert d5["open_decisions"][1]["options"] == ["cEBRT", "separation surgery then SRS"]
    assert set(d5["open_decisions"][0]) == {"question", "options", "rules"}
    json.dumps(d5)
    assert ENGINE_VERSION == "1.0"


# ---------------------------------------------------------------------------------------------
# spec 5.5 constraints: each violation is caught by the checker


def _violates(proposal: Proposal, inputs: CaseInput, code: str) -> None:
    with pytest.raises(ConstraintViolation, match=f"^{code}:"):
        check_constraints(proposal, inputs)


def test_c1_srs_without_surgery_for_high_grade_escc() -> None:
    p = propose(CASE_4)
    _violates(replace(p, surgery=()), CASE_4, "C1")
    _violates(replace(p, radiation=replace(p.radiation, after_surgery=False)), CASE_4, "C1")
    _violates(replace(p, surgery=(replace(p.surgery[0], status="candidate"),)), CASE_4, "C1")
    srs_option = OpenDecision("q", (Option.SRS, Option.CEBRT), ("R3",))
    _violates(replace(p, open_decisions=(srs_option,)), CASE_4, "C1")


def test_c2_no_surgery_in_poor_condition() -> None:
    inputs = case(lesion(sins_total=15), primary="breast", kps=40, expected_survival_months=2)
    p = propose(inputs)
    _violates(replace(p, surgery=(replace(p.surgery[0], status="open"),)), inputs, "C2")
    _violates(replace(p, open_decisions=(OpenDecision("q", (Option.IMMEDIATE_DECOMPRESSION,), ("R7",)),)), inputs, "C2")


def test_c3_no_surgery_when_unfit() -> None:
    inputs = case(lesion(sins_total=15), **GATES["excluded"])
    p = propose(inputs)
    _violates(replace(p, surgery=(replace(p.surgery[0], status="proposed"),)), inputs, "C3")
    _violates(replace(p, open_decisions=(OpenDecision("q", (Option.PROCEED_WITH_SURGERY,), ("R7",)),)), inputs, "C3")


def test_c4_every_entry_cites_a_fired_rule() -> None:
    p = propose(CASE_1)
    _violates(replace(p, fired_rules=()), CASE_1, "C4")
    _violates(replace(p, notes=(Entry("x", "uncited", ()),)), CASE_1, "C4")
    _violates(replace(p, supportive=(Entry("palliative_care", "cited but not fired", ("R11",)),)), CASE_1, "C4")
    _violates(replace(p, radiation=replace(p.radiation, rules=())), CASE_1, "C4")
    _violates(replace(p, surgery=(replace(p.surgery[0], rules=("R3",)),)), CASE_1, "C4")
    _violates(replace(p, open_decisions=(OpenDecision("q", (Option.CEBRT,), ()),)), CASE_1, "C4")


def test_c5_unclassified_never_definitive() -> None:
    p = propose(CASE_5)
    _violates(replace(p, radiation=replace(p.radiation, modality="cebrt")), CASE_5, "C5")


def test_c6_nothing_proposed_under_three_months() -> None:
    inputs = case(lesion(sins_total=15), expected_survival_months=2.5)
    p = propose(inputs)
    _violates(replace(p, surgery=(replace(p.surgery[0], status="candidate"),)), inputs, "C6")


def test_c7_timing_with_radiation_and_surgery() -> None:
    p = propose(CASE_6)
    _violates(replace(p, radiation=replace(p.radiation, timing=None)), CASE_6, "C7")
    inputs = case(lesion(sins_total=15))
    no_r20 = propose(inputs)
    _violates(replace(no_r20, radiation=replace(no_r20.radiation, rules=("R1", "R14"))), inputs, "C7")
