"""One description of every scoring system: identity, input schema, validation and compute.

Every consumer (calculator API, browser form, case scoring, PDF) reads from `REGISTRY`. Pure: no
Django, so the calculator semantics (contract "Calculators", spec 1.1) are tested without a
database; the API maps `InputError.errors` straight onto a 400 body.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from scoring.rules import (
    bauer,
    bilsky,
    bollen,
    performance,
    rades,
    radiosensitivity,
    sins,
    tokuhashi,
    tomita,
    van_der_linden,
)
from scoring.rules.base import ScoreResult, SystemMeta
from scoring.rules.kps import ECOG_VALUES
from scoring.rules.primary import PRIMARY_CODES, PrimaryMapping, primary_mapping

InputType = Literal["choice", "integer", "number", "boolean"]

NON_FIELD_ERRORS: Final = "non_field_errors"
MSG_REQUIRED: Final = "This field is required."
MSG_NULL: Final = "This field may not be null."


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One calculator input (contract "Calculators"); `label` is clinician-readable."""

    name: str
    type: InputType
    required: bool
    label: str
    help: str = ""
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    multiple_of: int | None = None


@dataclass(frozen=True, slots=True)
class PrimaryOverride:
    """An optional input that becomes required when spec 2.1 gives the primary no value for it."""

    input: str
    what: str  # what spec 2.1 lacks, for the error message ("growth class")
    has_value: Callable[[PrimaryMapping], bool]


@dataclass(frozen=True, slots=True)
class ScoringSystem:
    name: str
    title: str
    version: str
    citation: str
    provisional: bool
    inputs: tuple[InputSpec, ...]
    exactly_one_of: tuple[tuple[str, ...], ...]
    compute: Callable[[Mapping[str, object]], ScoreResult]
    primary_overrides: tuple[PrimaryOverride, ...] = ()

    def input(self, name: str) -> InputSpec:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise KeyError(name)


class InputError(Exception):
    """Invalid calculator input: field errors in DRF's shape (`non_field_errors` for the object)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


# --- input vocabularies ------------------------------------------------------------------

_PRIMARY: Final = InputSpec(
    "primary", "choice", True, "Primary tumour", help="Contract primary vocabulary (spec 2.1)", choices=PRIMARY_CODES
)
_BOOL_YES_NO_HELP: Final = "true = present, false = absent"


def _kps(minimum: int, help_text: str = "") -> InputSpec:
    return InputSpec(
        "kps",
        "integer",
        True,
        "Karnofsky performance status (KPS)",
        help=help_text or f"{minimum}-100 in steps of 10; never rounded",
        min=minimum,
        max=100,
        multiple_of=10,
    )


def _flag_input(name: str, label: str) -> InputSpec:
    return InputSpec(name, "boolean", True, label, help=_BOOL_YES_NO_HELP)


def _has_growth(row: PrimaryMapping) -> bool:
    return row.tomita_growth is not None


def _has_bollen_profile(row: PrimaryMapping) -> bool:
    return row.bollen_profile is not None


def _system(
    meta: SystemMeta,
    inputs: tuple[InputSpec, ...],
    compute: Callable[[Mapping[str, object]], ScoreResult],
    exactly_one_of: tuple[tuple[str, ...], ...] = (),
    primary_overrides: tuple[PrimaryOverride, ...] = (),
) -> ScoringSystem:
    return ScoringSystem(
        name=meta.name,
        title=meta.title,
        version=meta.version,
        citation=meta.citation,
        provisional=meta.provisional,
        inputs=inputs,
        exactly_one_of=exactly_one_of,
        compute=compute,
        primary_overrides=primary_overrides,
    )


_SINS_INPUTS: Final = (
    InputSpec(
        "level",
        "choice",
        False,
        "Vertebral level of the lesion",
        help="Give the level or the SINS location, not both",
        choices=sins.LEVELS,
    ),
    InputSpec(
        "location",
        "choice",
        False,
        "Spinal location (SINS)",
        help="Give the SINS location or the level, not both",
        choices=tuple(sins.LOCATION_POINTS),
    ),
    InputSpec(
        "pain",
        "choice",
        True,
        "Pain (SINS)",
        help=(
            "Mechanical: on movement or loading, relieved lying down, assessed seated or standing. "
            "With both mechanical and night or rest pain, choose mechanical."
        ),
        choices=tuple(sins.ITEM_POINTS["pain"]),
    ),
    InputSpec("bone_lesion", "choice", True, "Bone lesion", choices=tuple(sins.ITEM_POINTS["bone_lesion"])),
    InputSpec(
        "alignment", "choice", True, "Radiographic spinal alignment", choices=tuple(sins.ITEM_POINTS["alignment"])
    ),
    InputSpec(
        "collapse",
        "choice",
        True,
        "Vertebral body collapse",
        help="none_over_50_involved: no collapse with more than 50 % of the body involved",
        choices=tuple(sins.ITEM_POINTS["collapse"]),
    ),
    InputSpec(
        "posterolateral",
        "choice",
        True,
        "Posterolateral involvement of spinal elements",
        help="Facet, pedicle or costovertebral joint",
        choices=tuple(sins.ITEM_POINTS["posterolateral"]),
    ),
)

_FRANKEL: Final = InputSpec("frankel", "choice", True, "Frankel grade", choices=tuple(tokuhashi.FRANKEL_POINTS))

REGISTRY: Final[dict[str, ScoringSystem]] = {
    system.name: system
    for system in (
        _system(sins.META, _SINS_INPUTS, sins.compute, exactly_one_of=(("level", "location"),)),
        _system(
            bilsky.META,
            (
                InputSpec(
                    "grade",
                    "choice",
                    True,
                    "ESCC grade (Bilsky)",
                    help="Axial T2-weighted MRI at the level of worst compression",
                    choices=tuple(bilsky.GRADES),
                ),
            ),
            bilsky.compute,
        ),
        _system(
            performance.META,
            (
                InputSpec(
                    "kps",
                    "integer",
                    False,
                    "Karnofsky performance status (KPS)",
                    help="0-100 in steps of 10; give KPS or ECOG, not both",
                    min=0,
                    max=100,
                    multiple_of=10,
                ),
                InputSpec(
                    "ecog",
                    "integer",
                    False,
                    "ECOG performance status",
                    help="0-5; give ECOG or KPS, not both",
                    min=min(ECOG_VALUES),
                    max=max(ECOG_VALUES),
                ),
            ),
            performance.compute,
            exactly_one_of=(("kps", "ecog"),),
        ),
        _system(
            tokuhashi.META,
            (
                _kps(10),
                InputSpec(
                    "extraspinal_bone_metastases",
                    "integer",
                    True,
                    "Number of extraspinal bone metastases (foci)",
                    min=0,
                ),
                InputSpec(
                    "vertebral_metastases",
                    "integer",
                    True,
                    "Number of vertebrae involved",
                    help="Every involved vertebra, contiguous levels counted one by one",
                    min=1,
                ),
                InputSpec(
                    "major_organ_metastases",
                    "choice",
                    True,
                    "Metastases to major internal organs (lung, liver, kidney, brain)",
                    help="Removable is a surgical-removability judgement",
                    choices=tuple(tokuhashi.MAJOR_ORGAN_POINTS),
                ),
                _PRIMARY,
                _FRANKEL,
            ),
            tokuhashi.compute,
        ),
        _system(
            tomita.META,
            (
                _PRIMARY,
                InputSpec(
                    "primary_growth",
                    "choice",
                    False,
                    "Growth rate of the primary tumour (Tomita)",
                    help="Required when spec 2.1 gives the primary no growth class; overrides it when given",
                    choices=tuple(tomita.GROWTH_POINTS),
                ),
                InputSpec(
                    "visceral_metastases",
                    "choice",
                    True,
                    "Visceral metastases (Tomita)",
                    help="Treatable: any effective therapy",
                    choices=tuple(tomita.VISCERAL_POINTS),
                ),
                InputSpec(
                    "bone_metastases",
                    "choice",
                    True,
                    "Bone metastases, spinal and extraspinal together",
                    choices=tuple(tomita.BONE_POINTS),
                ),
            ),
            tomita.compute,
            primary_overrides=(PrimaryOverride("primary_growth", "growth class", _has_growth),),
        ),
        _system(
            bauer.META,
            (
                _PRIMARY,
                _flag_input("visceral_or_brain_metastases", "Visceral or brain metastases"),
                _flag_input("solitary_skeletal_metastasis", "Solitary skeletal metastasis (one bone lesion in all)"),
                _flag_input("pathological_fracture", "Pathological fracture"),
            ),
            bauer.compute,
        ),
        _system(
            bauer.META_MODIFIED,
            (
                _PRIMARY,
                _flag_input("visceral_or_brain_metastases", "Visceral or brain metastases"),
                _flag_input("solitary_skeletal_metastasis", "Solitary skeletal metastasis (one bone lesion in all)"),
            ),
            bauer.compute_modified,
        ),
        _system(
            van_der_linden.META,
            (
                _kps(20, "20-100 in steps of 10; KPS 10 is outside the published table"),
                _PRIMARY,
                _flag_input("visceral_metastases", "Visceral metastases"),
            ),
            van_der_linden.compute,
        ),
        _system(
            rades.META,
            (
                _PRIMARY,
                InputSpec(
                    "months_from_diagnosis",
                    "number",
                    True,
                    "Months from primary diagnosis to MSCC",
                    help="Unrounded; exactly 15 counts as 15 or less",
                    min=0,
                ),
                _flag_input("visceral_metastases", "Visceral metastases"),
                _flag_input("other_bone_metastases", "Other bone metastases"),
                _flag_input("ambulatory", "Ambulatory before treatment"),
                InputSpec(
                    "motor_deficit_days",
                    "integer",
                    True,
                    "Days of developing motor deficit",
                    min=1,
                ),
            ),
            rades.compute,
        ),
        _system(
            bollen.META,
            (
                _PRIMARY,
                InputSpec(
                    "bollen_profile",
                    "choice",
                    False,
                    "Primary tumour profile (Bollen)",
                    help="Required when spec 2.1 gives the primary no profile; overrides it when given",
                    choices=bollen.PROFILES,
                ),
                _kps(10),
                _flag_input("visceral_or_brain_metastases", "Visceral or brain metastases"),
            ),
            bollen.compute,
            primary_overrides=(PrimaryOverride("bollen_profile", "Bollen profile", _has_bollen_profile),),
        ),
        _system(radiosensitivity.META, (_PRIMARY,), radiosensitivity.compute),
    )
}

# Names that are not calculator inputs but can appear in case results' `missing` (spec 4.5).
_CASE_MISSING_LABELS: Final[dict[str, str]] = {
    "index_lesion": "Index lesion (none recorded, or several and not exactly one marked)"
}


def get_system(name: str) -> ScoringSystem:
    """The registered system; KeyError for an unknown name (the API answers 404)."""
    return REGISTRY[name]


def _format_choices(choices: tuple[str, ...]) -> str:
    return ", ".join(choices)


def _check_value(spec: InputSpec, value: object) -> list[str]:
    """Errors for one non-null value; types are strict JSON types and nothing is rounded (spec 1.1)."""
    if spec.type == "choice":
        allowed = _format_choices(spec.choices or ())
        if not isinstance(value, str):
            return [f"A valid choice is required (a string). Allowed values: {allowed}."]
        if value not in (spec.choices or ()):
            return [f'"{value}" is not a valid choice. Allowed values: {allowed}.']
        return []
    if spec.type == "boolean":
        return [] if isinstance(value, bool) else ["Must be a valid boolean (true or false)."]
    # bool is a subclass of int: true/false are never numbers here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ["A valid integer is required." if spec.type == "integer" else "A valid number is required."]
    if spec.type == "integer" and not isinstance(value, int):
        return ["A valid integer is required."]
    if not math.isfinite(value):
        return ["A valid number is required."]
    errors: list[str] = []
    if spec.min is not None and value < spec.min:
        errors.append(f"Ensure this value is greater than or equal to {spec.min:g}.")
    if spec.max is not None and value > spec.max:
        errors.append(f"Ensure this value is less than or equal to {spec.max:g}.")
    if spec.multiple_of is not None and value % spec.multiple_of:
        errors.append(f"Must be a multiple of {spec.multiple_of}; values are never rounded.")
    return errors


def validate_inputs(system: ScoringSystem, raw: Mapping[str, object]) -> dict[str, object]:
    """Calculator validation: the cleaned inputs, or InputError with every problem found.

    Null for an optional input (an override, one side of an exactly-one-of) means "not given";
    null for a required input is an error. Returns only the inputs given.
    """
    if not isinstance(raw, Mapping):
        raise InputError({NON_FIELD_ERRORS: [f"Invalid data. Expected an object, but got {type(raw).__name__}."]})
    errors: dict[str, list[str]] = {}
    known = {spec.name for spec in system.inputs}
    allowed = ", ".join(spec.name for spec in system.inputs)
    for name in raw:
        if name not in known:
            errors[str(name)] = [f"Unknown input. Allowed inputs: {allowed}."]

    cleaned: dict[str, object] = {}
    for spec in system.inputs:
        value = raw.get(spec.name)
        if value is None:
            if spec.required:
                errors[spec.name] = [MSG_NULL if spec.name in raw else MSG_REQUIRED]
            continue
        problems = _check_value(spec, value)
        if problems:
            errors[spec.name] = problems
        else:
            cleaned[spec.name] = value

    for group in system.exactly_one_of:
        given = [name for name in group if raw.get(name) is not None]
        if len(given) != 1:
            got = "neither" if not given else "both" if len(group) == 2 else ", ".join(given)
            names = " or ".join(group)
            errors.setdefault(NON_FIELD_ERRORS, []).append(f"Give exactly one of {names} (got {got}).")

    primary = cleaned.get("primary")
    if isinstance(primary, str):
        row = primary_mapping(primary)
        for override in system.primary_overrides:
            if override.input not in cleaned and override.input not in errors and not override.has_value(row):
                errors[override.input] = [
                    f'This field is required: spec 2.1 gives primary "{primary}" no {override.what}.'
                ]

    if errors:
        raise InputError(errors)
    return cleaned


def calculate(name: str, raw: Mapping[str, object]) -> ScoreResult:
    """Validate then compute (KeyError for an unknown system, InputError for bad input)."""
    system = get_system(name)
    return system.compute(validate_inputs(system, raw))


def missing_labels(result: ScoreResult) -> list[str]:
    """Clinician-readable labels of the result's missing inputs, for "incomplete, missing: ..."."""
    system = get_system(result.system)
    labels = {spec.name: spec.label for spec in system.inputs}
    return [labels.get(name) or _CASE_MISSING_LABELS.get(name, name) for name in result.missing]
