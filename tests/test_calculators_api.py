"""Calculators REST API (contract "Calculators"): listing, spec 7 worked cases, errors, schema.

The worked-case oracles are the spec 7 tables, not the rules modules: inputs are built from each
case's text, and only the flags spec 3.12 marks "calculator" are expected (case flags come from case
scoring, which the calculator does not do). A case the spec scores `incomplete` is, at the
calculator, a 400 naming the missing input (spec 1.2.3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.models import User
from scoring.registry import REGISTRY, InputSpec
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

URL = "/api/v1/calculators/"

# Spec 3.12 calculator flags, verbatim.
OTHERS = "primary scored as 'others'"
UNKNOWN_NOT_LUNG = "unknown primary scored as not lung"
BOLLEN_ENTERED = "Bollen profile entered by user"
PROVISIONAL = ("rades", "bollen")
COLLAPSE = ["over_50", "under_50", "none_over_50_involved", "none"]


def sins(level: str, pain: str, bone: str, alignment: str, collapse: str, posterolateral: str) -> dict[str, Any]:
    return {
        "level": level, "pain": pain, "bone_lesion": bone, "alignment": alignment,
        "collapse": collapse, "posterolateral": posterolateral,
    }  # fmt: skip


def tokuhashi(kps: int, extraspinal: int, vertebrae: int, organs: str, primary: str, frankel: str) -> dict[str, Any]:
    return {
        "kps": kps, "extraspinal_bone_metastases": extraspinal, "vertebral_metastases": vertebrae,
        "major_organ_metastases": organs, "primary": primary, "frankel": frankel,
    }  # fmt: skip


def bauer(primary: str, visceral_or_brain: bool, solitary: bool, fracture: bool | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "primary": primary, "visceral_or_brain_metastases": visceral_or_brain, "solitary_skeletal_metastasis": solitary,
    }  # fmt: skip
    if fracture is not None:
        body["pathological_fracture"] = fracture
    return body


def rades(
    primary: str, months: float, visceral: bool, other_bone: bool, ambulatory: bool, days: int | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "primary": primary, "months_from_diagnosis": months, "visceral_metastases": visceral,
        "other_bone_metastases": other_bone, "ambulatory": ambulatory,
    }  # fmt: skip
    if days is not None:
        body["motor_deficit_days"] = days
    return body


# (case, system, inputs, expected): expected is (score, category, item points or None, calculator
# flags) for a decided system, or the set of inputs the 400 must name for an undecided one.
Expected = tuple[int | str | None, str, list[int] | None, list[str]] | set[str]
WORKED_CASES: list[tuple[int, str, dict[str, Any], Expected]] = [
    # Case 1: solitary breast metastasis, fit. KPS 90; L3 only; no visceral/brain; Frankel E; 60 months.
    (1, "performance_status", {"kps": 90}, (90, "0", None, [])),
    (1, "sins", sins("L3", "occasional_non_mechanical", "mixed", "normal", "none_over_50_involved", "unilateral"),
     (6, "stable", [2, 1, 1, 0, 1, 1], [])),
    (1, "bilsky", {"grade": "0"}, ("0", "low", None, [])),
    (1, "tokuhashi_revised", tokuhashi(90, 0, 1, "none", "breast", "E"), (15, "gte_12_months", [2, 2, 2, 2, 5, 2], [])),
    (1, "tomita", {"primary": "breast", "visceral_metastases": "none", "bone_metastases": "solitary"},
     (2, "long_term_control", [1, 0, 1], [])),
    (1, "bauer", bauer("breast", False, True, False), (5, "good", [1, 1, 1, 1, 1], [])),
    (1, "bauer_modified", bauer("breast", False, True), (4, "good", [1, 1, 1, 1], [])),
    (1, "van_der_linden", {"kps": 90, "primary": "breast", "visceral_metastases": False}, (6, "C", [2, 3, 1], [])),
    (1, "rades", rades("breast", 60, False, False, True, None), {"motor_deficit_days"}),
    (1, "bollen", {"primary": "breast", "kps": 90, "visceral_or_brain_metastases": False}, ("A", "A", None, [])),
    (1, "radiosensitivity", {"primary": "breast"}, (None, "radiosensitive", None, [])),
    # Case 2: NSCLC, 8 months; KPS 40; 4 vertebrae, 5 extraspinal; liver (unremovable, untreatable) and
    # brain; T11 fractured; ESCC 3; Frankel B, non-ambulatory, deficit for 3 days.
    (2, "performance_status", {"kps": 40}, (40, "3", None, [])),
    (2, "sins", sins("T11", "mechanical", "lytic", "normal", "under_50", "bilateral"),
     (13, "unstable", [3, 3, 2, 0, 2, 3], [])),
    (2, "bilsky", {"grade": "3"}, ("3", "high", None, [])),
    (2, "tokuhashi_revised", tokuhashi(40, 5, 4, "unremovable", "lung_nsclc", "B"), (0, "lt_6_months", [0] * 6, [])),
    (2, "tomita", {"primary": "lung_nsclc", "visceral_metastases": "untreatable", "bone_metastases": "multiple"},
     (10, "terminal_care", [4, 4, 2], [])),
    (2, "bauer", bauer("lung_nsclc", True, False, True), (0, "poor", [0] * 5, [])),
    (2, "bauer_modified", bauer("lung_nsclc", True, False), (0, "poor", [0] * 4, [])),
    (2, "van_der_linden", {"kps": 40, "primary": "lung_nsclc", "visceral_metastases": True}, (1, "A", [0, 1, 0], [])),
    (2, "rades", rades("lung_nsclc", 8, True, True, False, 3), (20, "20_25", [3, 4, 2, 5, 3, 3], [])),
    (2, "bollen", {"primary": "lung_nsclc", "kps": 40, "visceral_or_brain_metastases": True}, ("D", "D", None, [])),
    (2, "radiosensitivity", {"primary": "lung_nsclc"}, (None, "radioresistant", None, [])),
    # Case 3: prostate; KPS 70; L1 and L4, 2 rib lesions; no visceral; Frankel E. No diagnosis date
    # is given, so Rades (undecided in the spec as well) has no calculator inputs here.
    (3, "performance_status", {"kps": 70}, (70, "1", None, [])),
    (3, "sins", sins("L1", "occasional_non_mechanical", "mixed", "normal", "none_over_50_involved", "unilateral"),
     (7, "potentially_unstable", [3, 1, 1, 0, 1, 1], [])),
    (3, "bilsky", {"grade": "1b"}, ("1b", "low", None, [])),
    (3, "tokuhashi_revised", tokuhashi(70, 2, 2, "none", "prostate", "E"), (12, "gte_12_months", [1, 1, 1, 2, 5, 2], [])),
    (3, "tomita", {"primary": "prostate", "visceral_metastases": "none", "bone_metastases": "multiple"},
     (3, "long_term_control", [1, 0, 2], [])),
    (3, "bauer", bauer("prostate", False, False, False), (3, "intermediate", [1, 0, 1, 0, 1], [])),
    (3, "bauer_modified", bauer("prostate", False, False), (2, "intermediate", [1, 0, 1, 0], [])),
    (3, "van_der_linden", {"kps": 70, "primary": "prostate", "visceral_metastases": False}, (4, "B", [1, 2, 1], [])),
    (3, "bollen", {"primary": "prostate", "kps": 70, "visceral_or_brain_metastases": False}, ("C", "C", None, [])),
    (3, "radiosensitivity", {"primary": "prostate"}, (None, "radiosensitive", None, [])),
    # Case 4: RCC, 40 months; KPS 80; T4 and T9, 3 extraspinal; no visceral; T4 fractured; ESCC 2;
    # Frankel D, walks independently, deficit for 10 days.
    (4, "performance_status", {"kps": 80}, (80, "1", None, [])),
    (4, "sins", sins("T4", "mechanical", "lytic", "de_novo_deformity", "over_50", "unilateral"),
     (12, "potentially_unstable", [1, 3, 2, 2, 3, 1], [])),
    (4, "bilsky", {"grade": "2"}, ("2", "high", None, [])),
    (4, "tokuhashi_revised", tokuhashi(80, 3, 2, "none", "kidney", "D"), (9, "gte_6_months", [2, 0, 1, 2, 3, 1], [])),
    (4, "tomita", {"primary": "kidney", "visceral_metastases": "none", "bone_metastases": "multiple"},
     (4, "middle_term_control", [2, 0, 2], [])),
    (4, "bauer", bauer("kidney", False, False, True), (3, "intermediate", [1, 0, 1, 1, 0], [])),
    (4, "bauer_modified", bauer("kidney", False, False), (3, "good", [1, 0, 1, 1], [])),
    (4, "van_der_linden", {"kps": 80, "primary": "kidney", "visceral_metastases": False}, (3, "A", [2, 0, 1], [])),
    (4, "rades", rades("kidney", 40, False, True, True, 10), (35, "31_35", [4, 7, 7, 5, 7, 5], [])),
    (4, "bollen", {"primary": "kidney", "kps": 80, "visceral_or_brain_metastases": False}, {"bollen_profile"}),
    (4, "bollen", {"primary": "kidney", "bollen_profile": "moderate", "kps": 80, "visceral_or_brain_metastases": False},
     ("B", "B", None, [BOLLEN_ENTERED])),
    (4, "radiosensitivity", {"primary": "kidney"}, (None, "radioresistant", None, [])),
    # Case 5: unknown primary, diagnosed now; KPS 60; T8 only; lung nodules (removable, treatable);
    # ESCC 3; Frankel C, non-ambulatory, deficit for 5 days.
    (5, "performance_status", {"kps": 60}, (60, "2", None, [])),
    (5, "sins", sins("T8", "pain_free", "blastic", "normal", "none", "none"), (1, "stable", [1, 0, 0, 0, 0, 0], [])),
    (5, "bilsky", {"grade": "3"}, ("3", "high", None, [])),
    (5, "tokuhashi_revised", tokuhashi(60, 0, 1, "removable", "unknown", "C"), (8, "lt_6_months", [1, 2, 2, 1, 1, 1], [])),
    (5, "tomita", {"primary": "unknown", "visceral_metastases": "treatable", "bone_metastases": "solitary"},
     (7, "short_term_palliation", [4, 2, 1], [])),
    (5, "bauer", bauer("unknown", True, True, False), (3, "intermediate", [0, 1, 1, 0, 1], [UNKNOWN_NOT_LUNG])),
    (5, "bauer_modified", bauer("unknown", True, True), (2, "intermediate", [0, 1, 1, 0], [UNKNOWN_NOT_LUNG])),
    (5, "van_der_linden", {"kps": 60, "primary": "unknown", "visceral_metastases": True}, (1, "A", [1, 0, 0], [])),
    (5, "rades", rades("unknown", 0, True, False, False, 5), (23, "20_25", [4, 4, 2, 7, 3, 3], [])),
    (5, "bollen", {"primary": "unknown", "kps": 60, "visceral_or_brain_metastases": True}, {"bollen_profile"}),
    (5, "radiosensitivity", {"primary": "unknown"}, (None, "unclassified", None, [])),
    # Case 6: myeloma; KPS 80; C7 only, 1 rib lesion; no visceral; C7 fractured; ESCC 2; Frankel E.
    (6, "performance_status", {"kps": 80}, (80, "1", None, [])),
    (6, "sins", sins("C7", "mechanical", "lytic", "subluxation_translation", "over_50", "bilateral"),
     (18, "unstable", [3, 3, 2, 4, 3, 3], [])),
    (6, "bilsky", {"grade": "2"}, ("2", "high", None, [])),
    (6, "tokuhashi_revised", tokuhashi(80, 1, 1, "none", "myeloma", "E"), (11, "gte_6_months", [2, 1, 2, 2, 2, 2], [OTHERS])),
    (6, "tomita", {"primary": "myeloma", "visceral_metastases": "none", "bone_metastases": "multiple"}, {"primary_growth"}),
    (6, "bauer", bauer("myeloma", False, False, True), (3, "intermediate", [1, 0, 1, 1, 0], [])),
    (6, "bauer_modified", bauer("myeloma", False, False), (3, "good", [1, 0, 1, 1], [])),
    (6, "van_der_linden", {"kps": 80, "primary": "myeloma", "visceral_metastases": False}, (3, "A", [2, 0, 1], [])),
    (6, "bollen", {"primary": "myeloma", "kps": 80, "visceral_or_brain_metastases": False}, {"bollen_profile"}),
    (6, "radiosensitivity", {"primary": "myeloma"}, (None, "radiosensitive", None, [])),
]  # fmt: skip

# A valid body for every system (the first worked case that decides it), which the error tests
# break one way at a time.
VALID: dict[str, dict[str, Any]] = {}
for _case, _system, _inputs, _expected in WORKED_CASES:
    if isinstance(_expected, tuple):
        VALID.setdefault(_system, _inputs)


@pytest.fixture
def api(personas: Personas, client_for: Callable[[User], APIClient]) -> APIClient:
    # Calculators hold no patient data: a member of another board is as good as any user.
    return client_for(personas.outsider)


def with_value(system: str, name: str, value: object) -> dict[str, Any]:
    """The valid body with one input set, and the other side of its exactly-one-of group dropped."""
    others = {other for group in REGISTRY[system].exactly_one_of if name in group for other in group} - {name}
    return {**{key: v for key, v in VALID[system].items() if key not in others}, name: value}


def post(api: APIClient, system: str, body: object) -> Response:
    return api.post(f"{URL}{system}/", body, format="json")


def test_every_system_has_a_valid_body() -> None:
    assert set(VALID) == set(REGISTRY)


# --- listing ----------------------------------------------------------------------------------


def _listed_input(spec: InputSpec) -> dict[str, Any]:
    return {
        "name": spec.name, "type": spec.type, "required": spec.required, "label": spec.label, "help": spec.help,
        "choices": list(spec.choices) if spec.choices is not None else None,
        "min": spec.min, "max": spec.max, "multiple_of": spec.multiple_of,
    }  # fmt: skip


def test_list_is_the_registry(api: APIClient) -> None:
    response = api.get(URL)

    assert response.status_code == 200
    listed = response.json()
    assert [system["name"] for system in listed] == list(REGISTRY)
    for entry in listed:
        system = REGISTRY[entry["name"]]
        assert entry["title"] == system.title
        assert entry["version"] == system.version == "1.0"
        assert entry["citation"] == system.citation
        assert entry["provisional"] is system.provisional is (system.name in PROVISIONAL)
        assert entry["inputs"] == [_listed_input(spec) for spec in system.inputs]
        assert entry["exactly_one_of"] == [list(group) for group in system.exactly_one_of]


def test_list_spells_out_the_contract_vocabularies(api: APIClient) -> None:
    listed = {system["name"]: {i["name"]: i for i in system["inputs"]} for system in api.get(URL).json()}

    assert listed["sins"]["collapse"]["choices"] == COLLAPSE
    assert listed["sins"]["level"]["choices"][:3] == ["occiput", "C1", "C2"]
    assert listed["bilsky"]["grade"]["choices"] == ["0", "1a", "1b", "1c", "2", "3"]
    kps = listed["performance_status"]["kps"]
    assert (kps["type"], kps["min"], kps["max"], kps["multiple_of"], kps["required"]) == ("integer", 0, 100, 10, False)
    assert (listed["van_der_linden"]["kps"]["min"], listed["tokuhashi_revised"]["kps"]["min"]) == (20, 10)
    assert listed["rades"]["months_from_diagnosis"]["type"] == "number"
    assert listed["bauer"]["pathological_fracture"]["type"] == "boolean"
    assert len(listed["tokuhashi_revised"]["primary"]["choices"]) == 26


def test_list_says_which_primaries_make_an_override_required(api: APIClient) -> None:
    overrides = {system["name"]: system["primary_overrides"] for system in api.get(URL).json()}

    (growth,) = overrides["tomita"]
    assert growth["input"] == "primary_growth"
    # Spec 2.1: "—" in the Tomita growth column.
    assert {"rectum", "myeloma", "other"} <= set(growth["required_for_primary"])
    assert not {"breast", "kidney", "unknown", "colon"} & set(growth["required_for_primary"])
    (profile,) = overrides["bollen"]
    assert profile["input"] == "bollen_profile"
    assert {"kidney", "myeloma", "unknown"} <= set(profile["required_for_primary"])
    assert not {"breast", "prostate", "lung_nsclc", "lung_sclc"} & set(profile["required_for_primary"])
    assert overrides["sins"] == []


# --- worked cases (spec 7) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "system", "inputs", "expected"),
    WORKED_CASES,
    ids=[f"case{case}-{system}-{'ok' if isinstance(e, tuple) else '400'}" for case, system, _, e in WORKED_CASES],
)
def test_worked_case(api: APIClient, case: int, system: str, inputs: dict[str, Any], expected: Expected) -> None:
    response = post(api, system, inputs)

    if isinstance(expected, set):
        assert response.status_code == 400
        assert set(response.json()) == expected
        return
    score, category, points, flags = expected
    assert response.status_code == 200, response.json()
    result = response.json()
    assert set(result) == {"system", "version", "score", "category", "category_label", "items", "flags", "citation"}
    assert result["system"] == system
    assert result["version"] == "1.0"
    assert (result["score"], result["category"]) == (score, category)
    assert result["category_label"]
    assert result["citation"] == REGISTRY[system].citation
    if points is not None:
        assert [item["points"] for item in result["items"]] == points
        assert sum(points) == score
    provisional = [flag for flag in result["flags"] if flag.startswith("provisional: ")]
    assert len(provisional) == (1 if system in PROVISIONAL else 0)
    assert [flag for flag in result["flags"] if flag not in provisional] == flags


def test_result_items_name_the_values_scored(api: APIClient) -> None:
    body = sins("L3", "occasional_non_mechanical", "mixed", "normal", "none_over_50_involved", "unilateral")

    result = post(api, "sins", body).json()

    assert result["category_label"] == "Stable (0-6)"
    assert result["items"] == [
        {"item": "location", "value": "mobile", "points": 2},
        {"item": "pain", "value": "occasional_non_mechanical", "points": 1},
        {"item": "bone_lesion", "value": "mixed", "points": 1},
        {"item": "alignment", "value": "normal", "points": 0},
        {"item": "collapse", "value": "none_over_50_involved", "points": 1},
        {"item": "posterolateral", "value": "unilateral", "points": 1},
    ]


def test_ecog_only_is_converted_and_flagged(api: APIClient) -> None:
    result = post(api, "performance_status", {"ecog": 2}).json()

    assert (result["score"], result["category"], result["category_label"]) == (60, "2", "ECOG 2")
    assert result["flags"] == ["KPS converted from ECOG"]


# --- errors --------------------------------------------------------------------------------------

SYSTEMS = list(REGISTRY)
REQUIRED = [(s.name, spec.name) for s in REGISTRY.values() for spec in s.inputs if spec.required]
CHOICES = [(s.name, spec.name) for s in REGISTRY.values() for spec in s.inputs if spec.type == "choice"]
# One value of a wrong JSON type per input type; bool is never a number (spec 1.1).
WRONG_TYPE: dict[str, list[object]] = {
    "choice": [7, True, ["L3"]],
    "boolean": ["yes", 1, None],
    "integer": [True, "80", 80.5],
    "number": [False, "12"],
}
ALL_INPUTS = [(s.name, spec) for s in REGISTRY.values() for spec in s.inputs]
WRONG_TYPES = [
    (system, spec.name, value)
    for system, spec in ALL_INPUTS
    for value in WRONG_TYPE[spec.type]
    if not (value is None and not spec.required)  # null is "not given" for an optional input
]
OUT_OF_RANGE = [
    (system, spec.name, value)
    for system, spec in ALL_INPUTS
    for value in (
        *((spec.min - 1,) if spec.min is not None else ()),
        *((spec.max + 10,) if spec.max is not None else ()),
        *((spec.max - 5,) if spec.multiple_of is not None and spec.max is not None else ()),
    )
]


@pytest.mark.parametrize("system", SYSTEMS)
def test_unknown_input_is_named(api: APIClient, system: str) -> None:
    response = post(api, system, {**VALID[system], "albumin": 4.2})

    assert response.status_code == 400
    assert list(response.json()) == ["albumin"]
    assert "Unknown input" in response.json()["albumin"][0]


@pytest.mark.parametrize(("system", "name"), REQUIRED)
def test_missing_required_input_is_named(api: APIClient, system: str, name: str) -> None:
    body = {key: value for key, value in VALID[system].items() if key != name}

    response = post(api, system, body)

    assert response.status_code == 400
    assert response.json() == {name: ["This field is required."]}


@pytest.mark.parametrize(("system", "name"), REQUIRED)
def test_null_for_a_required_input_is_not_absent(api: APIClient, system: str, name: str) -> None:
    response = post(api, system, {**VALID[system], name: None})

    assert response.status_code == 400
    assert response.json() == {name: ["This field may not be null."]}


@pytest.mark.parametrize(("system", "name"), CHOICES)
def test_value_outside_the_choices_is_named(api: APIClient, system: str, name: str) -> None:
    response = post(api, system, with_value(system, name, "Mechanical"))

    assert response.status_code == 400
    assert list(response.json()) == [name]
    assert '"Mechanical" is not a valid choice' in response.json()[name][0]


@pytest.mark.parametrize(("system", "name", "value"), WRONG_TYPES)
def test_wrong_type_is_named(api: APIClient, system: str, name: str, value: object) -> None:
    response = post(api, system, with_value(system, name, value))

    assert response.status_code == 400
    assert list(response.json()) == [name]


@pytest.mark.parametrize("system", ["performance_status", "tokuhashi_revised", "van_der_linden", "bollen"])
def test_kps_as_a_float_is_not_an_integer(api: APIClient, system: str) -> None:
    response = post(api, system, {**VALID[system], "kps": 80.0})

    assert response.status_code == 400
    assert response.json() == {"kps": ["A valid integer is required."]}


@pytest.mark.parametrize(("system", "name", "value"), OUT_OF_RANGE)
def test_number_outside_its_bounds_or_step_is_rejected_not_rounded(
    api: APIClient, system: str, name: str, value: float
) -> None:
    response = post(api, system, with_value(system, name, value))

    assert response.status_code == 400
    assert list(response.json()) == [name]


@pytest.mark.parametrize(
    ("system", "body"),
    [
        ("sins", {**VALID["sins"], "location": "mobile"}),
        ("sins", {key: value for key, value in VALID["sins"].items() if key != "level"}),
        ("performance_status", {"kps": 80, "ecog": 1}),
        ("performance_status", {}),
        ("performance_status", {"kps": None, "ecog": None}),
    ],
    ids=["sins-both", "sins-neither", "performance-both", "performance-neither", "performance-nulls"],
)
def test_exactly_one_of_is_a_non_field_error(api: APIClient, system: str, body: dict[str, Any]) -> None:
    response = post(api, system, body)

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["non_field_errors"]
    group = " or ".join(REGISTRY[system].exactly_one_of[0])
    assert errors["non_field_errors"][0].startswith(f"Give exactly one of {group}")


def test_sins_location_instead_of_level(api: APIClient) -> None:
    body = {**{k: v for k, v in VALID["sins"].items() if k != "level"}, "location": "mobile"}

    result = post(api, "sins", body).json()

    assert (result["score"], result["items"][0]) == (6, {"item": "location", "value": "mobile", "points": 2})


@pytest.mark.parametrize("body", ["[]", '[{"grade": "2"}]', '"2"', "2", "null", '{"grade": ', "not json"])
def test_body_that_is_not_a_json_object_is_400(api: APIClient, body: str) -> None:
    response = api.post(f"{URL}bilsky/", body, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_unknown_system_is_404(api: APIClient) -> None:
    response = post(api, "nesms", {"primary": "breast"})

    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", [URL, f"{URL}sins/", f"{URL}nesms/"])
def test_anonymous_is_401(api_client: APIClient, method: str, path: str) -> None:
    response = getattr(api_client, method)(path, {}, format="json")

    assert response.status_code == 401


def test_listing_only_reads(api: APIClient) -> None:
    assert api.post(URL, {}, format="json").status_code == 405
    assert api.get(f"{URL}sins/").status_code == 405


# --- OpenAPI schema -----------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref` and single-entry `allOf` wrappers to the schema they stand for."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node


def _enum(schema: dict[str, Any], prop: dict[str, Any]) -> list[str]:
    options = [_resolve(schema, option) for option in prop.get("oneOf", [prop])]
    return [value for option in options for value in _resolve(schema, option).get("enum", []) if value is not None]


def test_schema_documents_both_endpoints_with_enums(api: APIClient) -> None:
    response = api.get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    listing = schema["paths"]["/api/v1/calculators/"]["get"]
    calculate = schema["paths"]["/api/v1/calculators/{name}/"]["post"]
    assert _resolve(schema, listing["responses"]["200"]["content"]["application/json"]["schema"]["items"])[
        "properties"
    ].keys() >= {"name", "title", "version", "citation", "provisional", "inputs"}
    (name_param,) = calculate["parameters"]
    assert set(name_param["schema"]["enum"]) == set(REGISTRY)
    assert {"200", "400", "404"} <= set(calculate["responses"])
    result = _resolve(schema, calculate["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(result["required"]) >= {"system", "version", "score", "category", "category_label", "items", "flags"}

    request = _resolve(schema, calculate["requestBody"]["content"]["application/json"]["schema"])
    options = [_resolve(schema, option) for option in request["oneOf"]]
    bodies = {option["description"].split(".")[0]: option for option in options}
    assert len(bodies) == len(REGISTRY)
    sins_body = bodies[f"Inputs of {REGISTRY['sins'].title}"]
    assert _enum(schema, sins_body["properties"]["collapse"]) == COLLAPSE
    assert set(sins_body["required"]) == {"pain", "bone_lesion", "alignment", "collapse", "posterolateral"}
    assert sins_body["additionalProperties"] is False
    kps = bodies[f"Inputs of {REGISTRY['van_der_linden'].title}"]["properties"]["kps"]
    assert (kps["type"], kps["minimum"], kps["maximum"], kps["multipleOf"]) == ("integer", 20, 100, 10)
    bilsky_body = bodies[f"Inputs of {REGISTRY['bilsky'].title}"]
    assert _enum(schema, bilsky_body["properties"]["grade"]) == ["0", "1a", "1b", "1c", "2", "3"]
