"""Property tests (hypothesis) over every system: ranges, bands, and incomplete iff a required input is missing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.registry import REGISTRY, InputSpec, ScoringSystem, validate_inputs
from scoring.rules.case_mapping import CaseFacts, LesionFacts, score_case
from scoring.rules.flags import PROVISIONAL_FLAGS, SPEC_FLAGS
from scoring.rules.primary import primary_mapping

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Documented ranges and bands (contract table / spec 3.x), independent of the modules' data.
BANDS: dict[str, list[tuple[int, int, str]]] = {
    "sins": [(0, 6, "stable"), (7, 12, "potentially_unstable"), (13, 18, "unstable")],
    "tokuhashi_revised": [(0, 8, "lt_6_months"), (9, 11, "gte_6_months"), (12, 15, "gte_12_months")],
    "tomita": [(2, 3, "long_term_control"), (4, 5, "middle_term_control"), (6, 7, "short_term_palliation"),
               (8, 10, "terminal_care")],
    "bauer": [(0, 1, "poor"), (2, 3, "intermediate"), (4, 5, "good")],
    "bauer_modified": [(0, 1, "poor"), (2, 2, "intermediate"), (3, 4, "good")],
    "van_der_linden": [(0, 3, "A"), (4, 5, "B"), (6, 6, "C")],
    "rades": [(20, 25, "20_25"), (26, 30, "26_30"), (31, 35, "31_35"), (36, 40, "36_40"), (41, 45, "41_45")],
}  # fmt: skip
BILSKY = {"0": "low", "1a": "low", "1b": "low", "1c": "borderline", "2": "high", "3": "high"}
KPS_ECOG = {100: "0", 90: "0", 80: "1", 70: "1", 60: "2", 50: "2", 40: "3", 30: "3", 20: "4", 10: "4", 0: "5"}
# The missing name reported when neither side of an exactly-one-of group is given.
GROUP_MISSING: dict[tuple[str, ...], str] = {("level", "location"): "level", ("kps", "ecog"): "kps"}


def value_of(spec: InputSpec) -> st.SearchStrategy[object]:
    if spec.type == "choice":
        return st.sampled_from(spec.choices or ())
    if spec.type == "boolean":
        return st.booleans()
    low = int(spec.min or 0)
    high = int(spec.max) if spec.max is not None else low + 60
    if spec.type == "number":
        return st.floats(min_value=low, max_value=high * 10, allow_nan=False, allow_infinity=False)
    if spec.multiple_of:
        step = spec.multiple_of
        return st.integers(-(-low // step), high // step).map(lambda n: n * step)
    return st.integers(low, high)


@st.composite
def complete_inputs(draw: st.DrawFn, system: ScoringSystem) -> dict[str, object]:
    """Valid calculator inputs: every required input, one side of each group, overrides where needed."""
    values = {spec.name: draw(value_of(spec)) for spec in system.inputs if spec.required}
    for group in system.exactly_one_of:
        name = draw(st.sampled_from(group))
        values[name] = draw(value_of(system.input(name)))
    for override in system.primary_overrides:
        needed = not override.has_value(primary_mapping(str(values["primary"])))
        if needed or draw(st.booleans()):
            values[override.input] = draw(value_of(system.input(override.input)))
    return values


SYSTEMS = list(REGISTRY.values())


def check_category(system: str, score: object, category: object) -> None:
    if system in BANDS:
        assert isinstance(score, int)
        bands = BANDS[system]
        assert bands[0][0] <= score <= bands[-1][1]
        assert category == next(cat for low, high, cat in bands if low <= score <= high)
    elif system == "bilsky":
        assert category == BILSKY[str(score)]
    elif system == "performance_status":
        assert isinstance(score, int)
        assert category == KPS_ECOG[score]
    elif system == "bollen":
        assert score == category and category in {"A", "B", "C", "D"}
    else:
        assert score is None and category in {"radiosensitive", "radioresistant", "unclassified"}


@pytest.mark.parametrize("system", SYSTEMS, ids=lambda s: s.name)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_complete_inputs_give_a_total_in_range_and_its_band(system: ScoringSystem, data: st.DataObject) -> None:
    inputs = data.draw(complete_inputs(system))
    assert validate_inputs(system, inputs) == inputs
    result = system.compute(inputs)
    assert (result.status, result.missing) == ("complete", ())
    check_category(system.name, result.score, result.category)
    assert result.category_label
    if system.name in BANDS:
        assert result.score == sum(item.points or 0 for item in result.items)
    assert set(result.flags) <= {*SPEC_FLAGS, *PROVISIONAL_FLAGS}


@pytest.mark.parametrize("system", SYSTEMS, ids=lambda s: s.name)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_incomplete_iff_a_required_input_is_missing(system: ScoringSystem, data: st.DataObject) -> None:
    inputs = data.draw(complete_inputs(system))
    dropped = data.draw(st.sets(st.sampled_from(sorted(inputs))))
    as_null = data.draw(st.booleans())
    given_inputs: dict[str, object] = {k: v for k, v in inputs.items() if k not in dropped}
    if as_null:
        given_inputs.update(dict.fromkeys(dropped))
    present = {k for k, v in given_inputs.items() if v is not None}

    expected = {spec.name for spec in system.inputs if spec.required and spec.name not in present}
    for group in system.exactly_one_of:
        if not present.intersection(group):
            expected.add(GROUP_MISSING[group])
    for override in system.primary_overrides:
        if "primary" in present and override.input not in present:
            if not override.has_value(primary_mapping(str(given_inputs["primary"]))):
                expected.add(override.input)

    result = system.compute(given_inputs)
    assert set(result.missing) == expected
    assert (result.status == "incomplete") == bool(expected)
    if expected:
        assert (result.score, result.category, result.category_label) == (None, None, None)
    else:
        check_category(system.name, result.score, result.category)


def maybe(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), strategy)


REFERRAL = date(2025, 5, 1)
lesions = st.builds(
    LesionFacts,
    level=maybe(st.sampled_from(REGISTRY["sins"].input("level").choices or ())),
    is_index=maybe(st.booleans()),
    bone_lesion=maybe(st.sampled_from(["lytic", "mixed", "blastic"])),
    alignment=maybe(st.sampled_from(["subluxation_translation", "de_novo_deformity", "normal"])),
    collapse=maybe(st.sampled_from(["over_50", "under_50", "none_over_50_involved", "none"])),
    posterolateral=maybe(st.sampled_from(["bilateral", "unilateral", "none"])),
    escc_grade=maybe(st.sampled_from(list(BILSKY))),
    pathological_fracture=maybe(st.booleans()),
    sins_pain=maybe(st.sampled_from(["mechanical", "occasional_non_mechanical", "pain_free"])),
)
cases = st.builds(
    CaseFacts,
    referral_date=st.just(REFERRAL),
    lesions=st.lists(lesions, max_size=3).map(tuple),
    vertebrae_involved=maybe(st.integers(1, 8)),
    extraspinal_bone_metastases=maybe(st.integers(0, 8)),
    extraspinal_pathological_fracture=maybe(st.booleans()),
    visceral_organs=maybe(st.lists(st.sampled_from(["lung", "liver", "kidney", "adrenal", "pleura"])).map(tuple)),
    brain_metastases=maybe(st.booleans()),
    whole_spine_imaging_at=maybe(st.just(datetime(2025, 4, 28, 8, 0, tzinfo=UTC))),
    frankel=maybe(st.sampled_from("ABCDE")),
    myelopathy=maybe(st.booleans()),
    motor_deficit=maybe(st.booleans()),
    motor_deficit_onset=maybe(st.integers(-3, 40).map(lambda d: REFERRAL - timedelta(days=d))),
    ambulatory_status=maybe(st.sampled_from(["independent", "with_aid", "non_ambulatory"])),
    primary=maybe(st.sampled_from(REGISTRY["radiosensitivity"].input("primary").choices or ())),
    primary_diagnosis_date=maybe(st.integers(-30, 4000).map(lambda d: REFERRAL - timedelta(days=d))),
    primary_growth=maybe(st.sampled_from(["slow", "moderate", "rapid"])),
    bollen_profile=maybe(st.sampled_from(["favourable", "moderate", "unfavourable"])),
    visceral_removable=maybe(st.sampled_from(["removable", "unremovable"])),
    visceral_treatable=maybe(st.sampled_from(["treatable", "untreatable"])),
    kps=maybe(st.sampled_from(range(0, 101, 10))),
    ecog=maybe(st.integers(0, 5)),
    night_or_rest_pain=maybe(st.booleans()),
)


@PROPERTY_SETTINGS
@given(facts=cases)
def test_case_scoring_never_defaults_a_missing_fact(facts: CaseFacts) -> None:
    results = score_case(facts)
    assert list(results) == list(REGISTRY)
    for name, result in results.items():
        assert result.system == name
        assert (result.status == "incomplete") == bool(result.missing)
        if result.is_complete:
            check_category(name, result.score, result.category)
            # No item of a complete result is built from an unknown fact.
            for item in result.items:
                assert item.value is not None
        else:
            assert (result.score, result.category) == (None, None)
        assert set(result.flags) <= {*SPEC_FLAGS, *PROVISIONAL_FLAGS}
