"""Registry: contract names, input schema and calculator validation (contract "Calculators", spec 1.1)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from scoring.registry import REGISTRY, InputError, calculate, get_system, missing_labels, validate_inputs
from scoring.rules.case_mapping import CaseFacts, LesionFacts, score_case
from scoring.rules.flags import FLAG_KPS_CONVERTED, FLAG_PROVISIONAL_BOLLEN, FLAG_PROVISIONAL_RADES
from scoring.rules.primary import PRIMARY_CODES

CONTRACT_ORDER = [
    "sins", "bilsky", "performance_status", "tokuhashi_revised", "tomita", "bauer", "bauer_modified",
    "van_der_linden", "rades", "bollen", "radiosensitivity",
]  # fmt: skip

# Contract input names (in its order) with their required flag.
CONTRACT_INPUTS: dict[str, list[tuple[str, bool]]] = {
    "sins": [("level", False), ("location", False), ("pain", True), ("bone_lesion", True), ("alignment", True),
             ("collapse", True), ("posterolateral", True)],
    "bilsky": [("grade", True)],
    "performance_status": [("kps", False), ("ecog", False)],
    "tokuhashi_revised": [("kps", True), ("extraspinal_bone_metastases", True), ("vertebral_metastases", True),
                          ("major_organ_metastases", True), ("primary", True), ("frankel", True)],
    "tomita": [("primary", True), ("primary_growth", False), ("visceral_metastases", True), ("bone_metastases", True)],
    "bauer": [("primary", True), ("visceral_or_brain_metastases", True), ("solitary_skeletal_metastasis", True),
              ("pathological_fracture", True)],
    "bauer_modified": [("primary", True), ("visceral_or_brain_metastases", True),
                       ("solitary_skeletal_metastasis", True)],
    "van_der_linden": [("kps", True), ("primary", True), ("visceral_metastases", True)],
    "rades": [("primary", True), ("months_from_diagnosis", True), ("visceral_metastases", True),
              ("other_bone_metastases", True), ("ambulatory", True), ("motor_deficit_days", True)],
    "bollen": [("primary", True), ("bollen_profile", False), ("kps", True), ("visceral_or_brain_metastases", True)],
    "radiosensitivity": [("primary", True)],
}  # fmt: skip

LEVELS = ["occiput", *(f"C{i}" for i in range(1, 8)), *(f"T{i}" for i in range(1, 13)),
          *(f"L{i}" for i in range(1, 6)), *(f"S{i}" for i in range(1, 6))]  # fmt: skip
CONTRACT_CHOICES: dict[tuple[str, str], list[str]] = {
    ("sins", "level"): LEVELS,
    ("sins", "location"): ["junctional", "mobile", "semi_rigid", "rigid"],
    ("sins", "pain"): ["mechanical", "occasional_non_mechanical", "pain_free"],
    ("sins", "bone_lesion"): ["lytic", "mixed", "blastic"],
    ("sins", "alignment"): ["subluxation_translation", "de_novo_deformity", "normal"],
    ("sins", "collapse"): ["over_50", "under_50", "none_over_50_involved", "none"],
    ("sins", "posterolateral"): ["bilateral", "unilateral", "none"],
    ("bilsky", "grade"): ["0", "1a", "1b", "1c", "2", "3"],
    ("tokuhashi_revised", "major_organ_metastases"): ["none", "removable", "unremovable"],
    ("tokuhashi_revised", "frankel"): ["A", "B", "C", "D", "E"],
    ("tomita", "primary_growth"): ["slow", "moderate", "rapid"],
    ("tomita", "visceral_metastases"): ["none", "treatable", "untreatable"],
    ("tomita", "bone_metastases"): ["solitary", "multiple"],
    ("bollen", "bollen_profile"): ["favourable", "moderate", "unfavourable"],
}
# (system, input) -> (type, min, max, multiple_of) from the contract.
CONTRACT_NUMBERS: dict[tuple[str, str], tuple[str, float | None, float | None, int | None]] = {
    ("performance_status", "kps"): ("integer", 0, 100, 10),
    ("performance_status", "ecog"): ("integer", 0, 5, None),
    ("tokuhashi_revised", "kps"): ("integer", 10, 100, 10),
    ("tokuhashi_revised", "extraspinal_bone_metastases"): ("integer", 0, None, None),
    ("tokuhashi_revised", "vertebral_metastases"): ("integer", 1, None, None),
    ("van_der_linden", "kps"): ("integer", 20, 100, 10),
    ("rades", "months_from_diagnosis"): ("number", 0, None, None),
    ("rades", "motor_deficit_days"): ("integer", 1, None, None),
    ("bollen", "kps"): ("integer", 10, 100, 10),
}

VALID: dict[str, dict[str, object]] = {
    "sins": {"level": "T11", "pain": "mechanical", "bone_lesion": "lytic", "alignment": "normal",
             "collapse": "under_50", "posterolateral": "bilateral"},
    "bilsky": {"grade": "1c"},
    "performance_status": {"kps": 70},
    "tokuhashi_revised": {"kps": 90, "extraspinal_bone_metastases": 0, "vertebral_metastases": 1,
                          "major_organ_metastases": "none", "primary": "breast", "frankel": "E"},
    "tomita": {"primary": "breast", "visceral_metastases": "none", "bone_metastases": "solitary"},
    "bauer": {"primary": "breast", "visceral_or_brain_metastases": False, "solitary_skeletal_metastasis": True,
              "pathological_fracture": False},
    "bauer_modified": {"primary": "breast", "visceral_or_brain_metastases": False,
                       "solitary_skeletal_metastasis": True},
    "van_der_linden": {"kps": 90, "primary": "breast", "visceral_metastases": False},
    "rades": {"primary": "breast", "months_from_diagnosis": 40.5, "visceral_metastases": False,
              "other_bone_metastases": True, "ambulatory": True, "motor_deficit_days": 3},
    "bollen": {"primary": "breast", "kps": 90, "visceral_or_brain_metastases": False},
    "radiosensitivity": {"primary": "breast"},
}  # fmt: skip


def errors_of(name: str, raw: object) -> dict[str, list[str]]:
    with pytest.raises(InputError) as excinfo:
        validate_inputs(get_system(name), raw)  # type: ignore[arg-type]
    return excinfo.value.errors


def test_registry_is_the_contract_in_order() -> None:
    assert list(REGISTRY) == CONTRACT_ORDER
    for name, system in REGISTRY.items():
        assert system.name == name
        assert system.version == "1.0"
        assert system.title and system.citation
        assert system.provisional == (name in {"rades", "bollen"})


def test_get_system_unknown_is_key_error() -> None:
    with pytest.raises(KeyError):
        get_system("nesms")  # deferred (spec 3.11)
    with pytest.raises(KeyError):
        calculate("nesms", {})


@pytest.mark.parametrize("name", CONTRACT_ORDER)
def test_inputs_match_the_contract(name: str) -> None:
    assert [(i.name, i.required) for i in REGISTRY[name].inputs] == CONTRACT_INPUTS[name]
    for spec in REGISTRY[name].inputs:
        assert spec.label[0].isupper()
        if spec.name == "primary":
            assert spec.choices == PRIMARY_CODES
        elif (name, spec.name) in CONTRACT_CHOICES:
            assert (spec.type, list(spec.choices or ())) == ("choice", CONTRACT_CHOICES[(name, spec.name)])
        elif (name, spec.name) in CONTRACT_NUMBERS:
            assert (spec.type, spec.min, spec.max, spec.multiple_of) == CONTRACT_NUMBERS[(name, spec.name)]
        else:
            assert spec.type == "boolean"


def test_exactly_one_of_groups() -> None:
    assert {n: s.exactly_one_of for n, s in REGISTRY.items() if s.exactly_one_of} == {
        "sins": (("level", "location"),),
        "performance_status": (("kps", "ecog"),),
    }


@pytest.mark.parametrize("name", CONTRACT_ORDER)
def test_valid_inputs_calculate(name: str) -> None:
    result = calculate(name, VALID[name])
    assert result.status == "complete"
    assert result.system == name


@pytest.mark.parametrize("name", CONTRACT_ORDER)
def test_unknown_input_is_named(name: str) -> None:
    errors = errors_of(name, {**VALID[name], "albumin": 3.1})
    assert list(errors) == ["albumin"]
    assert errors["albumin"][0].startswith("Unknown input. Allowed inputs: ")
    assert REGISTRY[name].inputs[0].name in errors["albumin"][0]


REQUIRED = [(n, i) for n, inputs in CONTRACT_INPUTS.items() for i, required in inputs if required]


@pytest.mark.parametrize(("name", "field"), REQUIRED)
def test_missing_required_input(name: str, field: str) -> None:
    raw = {k: v for k, v in VALID[name].items() if k != field}
    assert errors_of(name, raw)[field] == ["This field is required."]
    assert errors_of(name, {**raw, field: None})[field] == ["This field may not be null."]


def bad_values(name: str, field: str) -> list[object]:
    spec = get_system(name).input(field)
    if spec.type == "choice":
        return ["not_a_code", "", 1, True, ["breast"], {"code": "x"}, "BREAST" if field == "primary" else "x y"]
    if spec.type == "boolean":
        return [1, 0, "true", "false", "yes", 1.0]
    bad: list[object] = [True, False, "10", [10], math.nan, math.inf, -math.inf]
    if spec.type == "integer":
        bad += [10.0, 20.5]
    if spec.min is not None:
        bad.append(int(spec.min) - (spec.multiple_of or 1))
    if spec.max is not None:
        bad.append(int(spec.max) + (spec.multiple_of or 1))
    if spec.multiple_of is not None:
        bad.append(int(spec.max or 100) - 5)
    return bad


INVALID = [
    pytest.param(name, field, value, id=f"{name}-{field}-{value!r}")
    for name, inputs in CONTRACT_INPUTS.items()
    for field, _ in inputs
    for value in bad_values(name, field)
]


@pytest.mark.parametrize(("name", "field", "value"), INVALID)
def test_invalid_value_is_a_field_error(name: str, field: str, value: object) -> None:
    raw = {**VALID[name], field: value}
    if field == "location":
        raw.pop("level")
    if field == "ecog":
        raw.pop("kps")
    errors = errors_of(name, raw)
    assert list(errors) == [field]
    assert errors[field]


# Contract ranges, both sides of each limit.
RANGES = [
    ("performance_status", "kps", 0, True),
    ("performance_status", "kps", 100, True),
    ("performance_status", "kps", -10, False),
    ("performance_status", "kps", 110, False),
    ("performance_status", "ecog", 0, True),
    ("performance_status", "ecog", 5, True),
    ("performance_status", "ecog", -1, False),
    ("performance_status", "ecog", 6, False),
    ("tokuhashi_revised", "kps", 10, True),
    ("tokuhashi_revised", "kps", 0, False),
    ("tokuhashi_revised", "kps", 100, True),
    ("tokuhashi_revised", "extraspinal_bone_metastases", 0, True),
    ("tokuhashi_revised", "extraspinal_bone_metastases", -1, False),
    ("tokuhashi_revised", "extraspinal_bone_metastases", 250, True),
    ("tokuhashi_revised", "vertebral_metastases", 1, True),
    ("tokuhashi_revised", "vertebral_metastases", 0, False),
    ("van_der_linden", "kps", 20, True),
    ("van_der_linden", "kps", 10, False),
    ("bollen", "kps", 10, True),
    ("bollen", "kps", 0, False),
    ("rades", "months_from_diagnosis", 0, True),
    ("rades", "months_from_diagnosis", 0.0, True),
    ("rades", "months_from_diagnosis", 15, True),
    ("rades", "months_from_diagnosis", -0.01, False),
    ("rades", "motor_deficit_days", 1, True),
    ("rades", "motor_deficit_days", 0, False),
]


@pytest.mark.parametrize(("name", "field", "value", "ok"), RANGES)
def test_contract_ranges(name: str, field: str, value: object, ok: bool) -> None:
    raw = {**VALID[name], field: value}
    if field == "ecog":
        raw.pop("kps")
    if ok:
        assert validate_inputs(get_system(name), raw)[field] == value
    else:
        assert field in errors_of(name, raw)


def test_kps_75_is_rejected_not_rounded() -> None:
    for name in ("performance_status", "tokuhashi_revised", "van_der_linden", "bollen"):
        errors = errors_of(name, {**VALID[name], "kps": 75})
        assert errors == {"kps": ["Must be a multiple of 10; values are never rounded."]}


def test_bool_is_not_an_integer() -> None:
    assert errors_of("performance_status", {"ecog": True}) == {"ecog": ["A valid integer is required."]}


def test_choice_error_names_the_allowed_values() -> None:
    message = errors_of("bilsky", {"grade": "4"})["grade"][0]
    assert message == '"4" is not a valid choice. Allowed values: 0, 1a, 1b, 1c, 2, 3.'


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("sins", {k: v for k, v in VALID["sins"].items() if k != "level"},
         "Give exactly one of level or location (got neither)."),
        ("sins", {**VALID["sins"], "location": "junctional"}, "Give exactly one of level or location (got both)."),
        ("performance_status", {}, "Give exactly one of kps or ecog (got neither)."),
        ("performance_status", {"kps": 80, "ecog": 1}, "Give exactly one of kps or ecog (got both)."),
    ],
)  # fmt: skip
def test_exactly_one_of_is_a_non_field_error(name: str, raw: dict[str, object], message: str) -> None:
    assert errors_of(name, raw) == {"non_field_errors": [message]}


def test_null_optional_counts_as_not_given() -> None:
    assert validate_inputs(get_system("performance_status"), {"kps": 80, "ecog": None}) == {"kps": 80}
    assert validate_inputs(get_system("tomita"), {**VALID["tomita"], "primary_growth": None}) == VALID["tomita"]


@pytest.mark.parametrize(
    ("name", "field", "primary"),
    [("tomita", "primary_growth", p) for p in ("myeloma", "rectum", "other", "germ_cell")]
    + [("bollen", "bollen_profile", p) for p in ("kidney", "myeloma", "unknown", "thyroid")],
)
def test_override_required_when_spec_gives_no_value(name: str, field: str, primary: str) -> None:
    errors = errors_of(name, {**VALID[name], "primary": primary})
    assert list(errors) == [field]
    assert f'primary "{primary}"' in errors[field][0]


@pytest.mark.parametrize(
    ("name", "field", "value"), [("tomita", "primary_growth", "slow"), ("bollen", "bollen_profile", "moderate")]
)
def test_override_given_is_accepted(name: str, field: str, value: str) -> None:
    assert calculate(name, {**VALID[name], "primary": "myeloma", field: value}).is_complete


def test_invalid_primary_does_not_also_demand_the_override() -> None:
    assert list(errors_of("tomita", {**VALID["tomita"], "primary": "nope"})) == ["primary"]


def test_all_errors_are_collected() -> None:
    errors = errors_of(
        "tokuhashi_revised",
        {"kps": 75, "extraspinal_bone_metastases": -1, "vertebral_metastases": True, "primary": "lung", "x": 1},
    )
    assert set(errors) == {"kps", "extraspinal_bone_metastases", "vertebral_metastases", "primary", "x",
                           "major_organ_metastases", "frankel"}  # fmt: skip
    both = errors_of("performance_status", {"kps": 105, "ecog": 1})
    assert both["kps"] == [
        "Ensure this value is less than or equal to 100.",
        "Must be a multiple of 10; values are never rounded.",
    ]
    assert "non_field_errors" in both


@pytest.mark.parametrize("raw", [[], "kps=80", 80, None])
def test_body_must_be_an_object(raw: object) -> None:
    assert list(errors_of("performance_status", raw)) == ["non_field_errors"]


def test_contract_example_shape() -> None:
    result = calculate(
        "sins",
        {"location": "junctional", "pain": "mechanical", "bone_lesion": "lytic", "alignment": "normal",
         "collapse": "under_50", "posterolateral": "bilateral"},
    )  # fmt: skip
    data = result.to_dict()
    assert list(data) == ["system", "version", "status", "score", "category", "category_label", "items", "flags",
                          "missing", "citation"]  # fmt: skip
    assert data["score"] == 13
    assert (data["category"], data["category_label"]) == ("unstable", "Unstable (13-18)")
    assert data["items"][0] == {"item": "location", "value": "junctional", "points": 3}  # type: ignore[index]
    assert (data["flags"], data["missing"], data["status"]) == ([], [], "complete")


def test_provisional_systems_say_so_in_flags() -> None:
    assert calculate("rades", VALID["rades"]).flags[0] == FLAG_PROVISIONAL_RADES
    assert calculate("bollen", VALID["bollen"]).flags[0] == FLAG_PROVISIONAL_BOLLEN
    assert FLAG_PROVISIONAL_RADES.startswith("provisional: ")
    assert FLAG_PROVISIONAL_BOLLEN.startswith("provisional: ")


def test_calculator_converts_ecog_with_flag() -> None:
    result = calculate("performance_status", {"ecog": 2})
    assert (result.score, result.category, result.flags) == (60, "2", (FLAG_KPS_CONVERTED,))


def test_missing_labels() -> None:
    result = REGISTRY["tokuhashi_revised"].compute({**VALID["tokuhashi_revised"], "extraspinal_bone_metastases": None})
    assert missing_labels(result) == ["Number of extraspinal bone metastases (foci)"]
    rades_result = REGISTRY["rades"].compute({**VALID["rades"], "motor_deficit_days": None, "ambulatory": None})
    assert missing_labels(rades_result) == ["Ambulatory before treatment", "Days of developing motor deficit"]


def test_missing_labels_for_the_index_lesion() -> None:
    facts = CaseFacts(referral_date=date(2025, 1, 6), lesions=(LesionFacts(level="T4"), LesionFacts(level="T9")))
    assert missing_labels(score_case(facts)["sins"]) == [
        "Index lesion (none recorded, or several and not exactly one marked)"
    ]
