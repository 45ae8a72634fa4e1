"""The calculator form, built from a system's registry input schema (spec 1.1).

Fields only turn the posted text into the JSON values the API would receive; every check (types,
required, choices, bounds, steps, exactly-one-of, primary overrides) is `registry.validate_inputs`,
the code the REST API runs, so the page and the API accept, reject and word errors alike.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import BoundField

from scoring.registry import NON_FIELD_ERRORS, InputError, InputSpec, InputType, ScoringSystem, validate_inputs
from scoring.rules.primary import PRIMARY_CHOICES, PRIMARY_CODES

EMPTY_CHOICE = ("", "—")
# "Not given" must stay distinct from "no" (spec 1.1), hence a select rather than a checkbox.
BOOLEAN_CHOICES = (EMPTY_CHOICE, ("true", "yes"), ("false", "no"))
# The registry's help for booleans speaks JSON (true/false); the page offers yes/no/—.
BOOLEAN_HELP = "yes = present, no = absent, — = not recorded"


def choice_label(spec: InputSpec, code: str) -> str:
    """What a clinician reads for a choice code: the primary's name, else the code in words."""
    if spec.choices == PRIMARY_CODES:
        return dict(PRIMARY_CHOICES)[code]
    return code.replace("_", " ")


def _typed(kind: InputType, text: str) -> object:
    """The JSON value a client would send; text that is no such value goes on for the registry to reject."""
    if kind in ("integer", "number"):
        # Integral text stays an integer, as in JSON; a decimal is a float even for an integer
        # input, where the registry rejects it rather than dropping the fraction.
        for parse in (int, float):
            try:
                return parse(text)
            except ValueError:
                continue
        return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    return text


class InputField(forms.Field):
    """One registry input. Empty means "not given", like a key absent from an API body."""

    def __init__(self, spec: InputSpec, **kwargs: Any) -> None:
        self.spec = spec
        help_text = BOOLEAN_HELP if spec.type == "boolean" else spec.help
        super().__init__(required=False, label=spec.label, help_text=help_text, **kwargs)

    def to_python(self, value: Any) -> object:
        text = value.strip() if isinstance(value, str) else ""
        return _typed(self.spec.type, text) if text else None


def _widget(spec: InputSpec) -> forms.Widget:
    # Browser hints only (the form is `novalidate`): the registry decides what is valid.
    attrs: dict[str, Any] = {"aria-required": "true"} if spec.required else {}
    if spec.type == "choice":
        options = [EMPTY_CHOICE, *((code, choice_label(spec, code)) for code in spec.choices or ())]
        return forms.Select(choices=options, attrs=attrs)
    if spec.type == "boolean":
        return forms.Select(choices=BOOLEAN_CHOICES, attrs=attrs)
    for key, bound in (("min", spec.min), ("max", spec.max)):
        if bound is not None:
            attrs[key] = f"{bound:g}"
    attrs["step"] = (spec.multiple_of or 1) if spec.type == "integer" else "any"
    return forms.NumberInput(attrs=attrs)


class CalculatorForm(forms.Form):
    """One field per registry input; `inputs` holds the registry's cleaned inputs once valid."""

    def __init__(self, system: ScoringSystem, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.system = system
        self.inputs: dict[str, object] = {}
        for spec in system.inputs:
            self.fields[spec.name] = InputField(spec, widget=_widget(spec))

    @property
    def has_required(self) -> bool:
        return any(spec.required for spec in self.system.inputs)

    def rows(self) -> list[tuple[BoundField, InputSpec]]:
        """Each field with its input spec, for the required marks the optional Django fields lack."""
        return [(self[spec.name], spec) for spec in self.system.inputs]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        given = {name: value for name, value in cleaned.items() if value is not None}
        try:
            self.inputs = validate_inputs(self.system, given)
        except InputError as exc:
            for name, messages in exc.errors.items():
                self.add_error(None if name == NON_FIELD_ERRORS else name, messages)
        return cleaned
