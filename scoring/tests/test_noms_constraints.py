"""Spec 5.5: property-based checks of C1-C7 over random complete and incomplete cases.

The checker here is written independently of `noms.check_constraints`: it reads only the contract
JSON of the proposal (`to_dict()`) and the raw inputs, with its own copies of the spec tables.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.rules.mscc import LEVELS, CaseInput, CaseLesion
from scoring.rules.noms import propose

IMAGED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PRIMARIES = (
    "breast prostate thyroid kidney lung_nsclc lung_sclc colon rectum stomach oesophagus pancreas liver gallbladder "
    "bladder uterus ovary melanoma sarcoma osteosarcoma myeloma lymphoma germ_cell carcinoid head_neck unknown other"
).split()
# spec 2.2 note 3, copied so the checker does not trust the engine's table.
RADIOSENSITIVE = {"breast", "prostate", "myeloma", "lymphoma", "germ_cell"}
RADIORESISTANT = {"kidney", "colon", "rectum", "melanoma", "sarcoma", "osteosarcoma", "thyroid", "liver", "lung_nsclc"}
ECOG_TO_KPS = {0: 90, 1: 80, 2: 60, 3: 40, 4: 20, 5: 0}
SURGICAL_OPTION_TEXTS = {"separation surgery then SRS", "immediate decompression", "proceed with surgery"}
PROCEDURES = {"separation_surgery", "decompression", "stabilisation", "en_bloc_resection", "cement_augmentation"}
STATUSES = {"proposed", "candidate", "open", "withheld"}
WHEN_INCOMPLETE = {"R17", "R19", "R21", "R22", "R23", "R24"}
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


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


BOOL = maybe(st.booleans())
# The thresholds of spec 5 (2, 3, 6 months) and their neighbours are drawn often on purpose.
SURVIVAL = maybe(
    st.sampled_from([0, 1, 1.5, 2, 2.01, 2.5, 2.99, 3, 5.9, 6, 18, 36])
    | st.floats(min_value=0, max_value=120, allow_nan=False)
)
SINS = maybe(st.sampled_from([0, 6, 7, 12, 13, 18]) | st.integers(0, 18))


@st.composite
def lesions(draw: st.DrawFn) -> tuple[CaseLesion, ...]:
    levels = draw(st.lists(st.sampled_from(LEVELS), max_size=3, unique=True))
    return tuple(
        CaseLesion(
            level=level,
            is_index=draw(st.booleans()),
            sins_total=draw(SINS),
            escc_grade=draw(maybe(st.sampled_from(["0", "1a", "1b", "1c", "2", "3"]))),
            mechanical_judgement=draw(maybe(st.sampled_from(["stable", "unstable"]))),
            pathological_fracture=draw(BOOL),
            retropulsion=draw(BOOL),
            sins_pain=draw(maybe(st.sampled_from(["mechanical", "occasional_non_mechanical", "pain_free"]))),
            prior_surgery=draw(BOOL),
        )
        for level in levels
    )


@st.composite
def cases(draw: st.DrawFn) -> CaseInput:
    lesion_tuple = draw(lesions())
    return CaseInput(
        primary=draw(maybe(st.sampled_from(PRIMARIES))),
        lesions=lesion_tuple,
        myelopathy=draw(BOOL),
        motor_deficit=draw(BOOL),
        bladder_bowel_dysfunction=draw(BOOL),
        frankel=draw(maybe(st.sampled_from("ABCDE"))),
        kps=draw(maybe(st.sampled_from(range(0, 101, 10)))),
        ecog=draw(maybe(st.integers(0, 5))),
        expected_survival_months=draw(SURVIVAL),
        fit_for_surgery=draw(BOOL),
        fit_for_surgery_reason=draw(maybe(st.sampled_from(["", "frail", "anticoagulated"]))),
        systemic_control=draw(maybe(st.sampled_from(["controlled", "uncontrolled", "not_assessed"]))),
        vertebrae_involved=draw(maybe(st.integers(1, 6))),
        extraspinal_bone_metastases=draw(maybe(st.integers(0, 4))),
        visceral_organs=draw(
            maybe(st.lists(st.sampled_from(["lung", "liver", "adrenal"]), max_size=2, unique=True).map(tuple))
        ),
        brain_metastases=draw(BOOL),
        molecular_alterations=draw(maybe(st.sampled_from(["", "EGFR L858R"]))),
        whole_spine_imaging_at=draw(maybe(st.just(IMAGED))),
        prior_radiotherapy_levels=tuple(
            draw(st.lists(st.sampled_from([les.level for les in lesion_tuple] or ["T1"]), max_size=2, unique=True))
        ),
        night_or_rest_pain=draw(BOOL),
        corticosteroid_dose=draw(maybe(st.just("dexamethasone 4 mg/day"))),
        surgery_recorded=draw(st.booleans()),
    )


def complete_cases() -> st.SearchStrategy[CaseInput]:
    """Cases with every spec 5.1 required input recorded (the optional ones stay random)."""

    def fill(
        c: CaseInput, primary: str, grade: str, sins: int, es: float, fit: bool, kps: int, motor: bool, myelopathy: bool
    ) -> CaseInput:
        index = CaseLesion(
            "T6",
            is_index=True,
            sins_total=sins,
            escc_grade=grade,
            pathological_fracture=c.lesions[0].pathological_fracture if c.lesions else None,
        )
        others = tuple(replace(les, is_index=False) for les in c.lesions if les.level != "T6")
        return replace(
            c,
            primary=primary,
            lesions=(index, *others),
            expected_survival_months=es,
            fit_for_surgery=fit,
            kps=kps,
            motor_deficit=motor,
            myelopathy=myelopathy,
        )

    return st.builds(
        fill,
        cases(),
        st.sampled_from(PRIMARIES),
        st.sampled_from(["0", "1a", "1b", "1c", "2", "3"]),
        st.integers(0, 18),
        SURVIVAL.filter(lambda v: v is not None),
        st.booleans(),
        st.sampled_from(range(0, 101, 10)),
        st.booleans(),
        st.booleans(),
    )


def index_of(case: CaseInput) -> CaseLesion | None:
    marked = [les for les in case.lesions if les.is_index]
    if len(marked) == 1:
        return marked[0]
    return case.lesions[0] if not marked and len(case.lesions) == 1 else None


def check(d: dict[str, Any], case: CaseInput) -> None:
    """Independent statement of spec 5.5 C1-C7 (plus spec 5.1 and contract shape) on the JSON."""
    assert set(d) == CONTRACT_KEYS
    json.dumps(d)
    index = index_of(case)
    high = index is not None and index.escc_grade in ("2", "3")
    kps = case.kps if case.kps is not None else ECOG_TO_KPS.get(case.ecog) if case.ecog is not None else None
    es = case.expected_survival_months
    radiation, surgery, decisions = d["radiation"], d["surgery"], d["open_decisions"]
    modality = radiation["modality"]
    option_texts = [o for dec in decisions for o in dec["options"]]
    for item in surgery:
        assert item["procedure"] in PROCEDURES and item["status"] in STATUSES and item["level"] in LEVELS

    # C1
    if high and modality == "srs":
        assert any(
            i["procedure"] in ("separation_surgery", "decompression")
            and i["level"] == index.level
            and i["status"] == "proposed"
            for i in surgery
        )
        assert "after" in (radiation["timing"] or "")
    if high:
        assert "SRS" not in option_texts
    # C2, C3
    if (kps is not None and es is not None and kps <= 40 and es <= 2) or case.fit_for_surgery is False:
        assert all(i["status"] == "withheld" for i in surgery)
        assert not SURGICAL_OPTION_TEXTS & set(option_texts)
    # C4
    fired = {f["rule"] for f in d["fired_rules"]}
    assert fired and all(f["spec"] == "5.3" and f["text"] for f in d["fired_rules"])
    cited = [
        e["rules"]
        for key in ("surgery", "systemic", "supportive", "work_up", "notes", "open_decisions")
        for e in d[key]
    ]
    if modality is not None:
        cited.append(radiation["rules"])
    for rules in cited:
        assert rules and set(rules) <= fired
    assert all(dec["options"] for dec in decisions)
    # C5
    if case.primary is not None and case.primary not in RADIOSENSITIVE | RADIORESISTANT:
        assert modality not in ("cebrt", "srs")
    # C6
    if es is not None and es < 3:
        assert all(i["status"] not in ("proposed", "candidate") for i in surgery)
    # C7
    if modality is not None and any(i["status"] in ("proposed", "candidate") for i in surgery):
        assert "R20" in radiation["rules"] and radiation["timing"]

    # spec 5.1: incomplete proposes no treatment; only R17, R19, R21-R24 fire.
    assert "R19" in fired
    if d["status"] == "incomplete":
        assert d["missing"] and modality is None and not surgery and not decisions
        assert fired <= WHEN_INCOMPLETE
    else:
        assert d["status"] == "complete" and not d["missing"]
        assert modality in ("cebrt", "srs", "open")
    # R21 and the emergency level go together; the dexamethasone dose is never a high dose.
    assert ("R21" in fired) is (d["urgency"] == "emergency")
    for entry in d["supportive"]:
        assert "96" not in entry["text"]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_random_cases_never_raise_and_keep_constraints(case: CaseInput) -> None:
    check(propose(case).to_dict(), case)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(complete_cases())
def test_random_complete_cases_keep_constraints(case: CaseInput) -> None:
    d = propose(case).to_dict()
    assert d["status"] == "complete"
    check(d, case)


def test_the_checker_itself_catches_violations() -> None:
    """Guards against a vacuous checker: broken copies of a real proposal must fail it."""
    kidney = CaseInput(
        primary="kidney",
        lesions=(CaseLesion("T4", True, 12, "2", "unstable"),),
        myelopathy=False,
        motor_deficit=False,
        kps=80,
        expected_survival_months=18,
        fit_for_surgery=True,
        whole_spine_imaging_at=IMAGED,
    )
    good = propose(kidney).to_dict()
    check(good, kidney)
    broken = [
        {**good, "surgery": []},  # C1: SRS with nothing relieving the cord
        {**good, "surgery": [{**good["surgery"][0], "rules": ["R99"]}]},  # C4
        {**good, "radiation": {**good["radiation"], "rules": ["R3"], "timing": "2-4 weeks after separation surgery"}},
        {**good, "fired_rules": []},  # C4
    ]
    for d in broken:
        with pytest.raises(AssertionError):
            check(d, kidney)
    unfit = replace(kidney, fit_for_surgery=False)
    with pytest.raises(AssertionError):
        check(good, unfit)  # C3: proposed surgery for an unfit patient
