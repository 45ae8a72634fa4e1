"""Calculator serializers (contract "Calculators"), all derived from `scoring.registry.REGISTRY`.

The registry is the one description of every system: the list endpoint serializes it as it is, and
the per-system request serializers exist only so the OpenAPI schema spells out each system's body
(enums, bounds, steps). Request validation stays in `registry.validate_inputs`, shared with the
browser form, so the API and the page can never disagree about what is valid.
"""

from __future__ import annotations

from typing import Any, get_args

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scoring.registry import REGISTRY, InputSpec, InputType, ScoringSystem
from scoring.rules.primary import PRIMARY_CHOICES, PRIMARY_CODES, primary_mapping

INPUT_TYPES: tuple[InputType, ...] = get_args(InputType)


@extend_schema_field(OpenApiTypes.NUMBER)
class BoundField(serializers.Field):  # type: ignore[type-arg]
    """A numeric bound as the registry holds it, so an integer bound stays `10`, not `10.0`."""

    def to_representation(self, value: float) -> float:
        return value


class CalculatorInputSpecSerializer(serializers.Serializer[Any]):
    """One calculator input; `choices` for choice inputs, `min`/`max`/`multiple_of` for numbers."""

    name = serializers.CharField()
    type = serializers.ChoiceField(choices=INPUT_TYPES)
    # `required` and `label` are output keys; mypy takes them for the Field attributes of that name.
    required = serializers.BooleanField(  # type: ignore[assignment]
        help_text="False for one side of an exactly-one-of group and for inputs that only a primary "
        "without a tabulated value makes required (see the system's `primary_overrides`)."
    )
    label = serializers.CharField()  # type: ignore[assignment]
    help = serializers.CharField(allow_blank=True)
    choices = serializers.ListField(child=serializers.CharField(), allow_null=True)
    min = BoundField(allow_null=True)
    max = BoundField(allow_null=True)
    multiple_of = serializers.IntegerField(allow_null=True)


class PrimaryOverrideSerializer(serializers.Serializer[Any]):
    """An optional input that becomes required for the primaries spec 2.1 gives no value."""

    input = serializers.CharField()
    required_for_primary = serializers.ListField(child=serializers.ChoiceField(choices=PRIMARY_CHOICES))


class CalculatorSerializer(serializers.Serializer[Any]):
    """A scoring system as the registry describes it."""

    name = serializers.CharField()
    title = serializers.CharField()
    version = serializers.CharField()
    citation = serializers.CharField()
    provisional = serializers.BooleanField(help_text="Provisional systems also say so in every result's `flags`.")
    inputs = CalculatorInputSpecSerializer(many=True)
    exactly_one_of = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Groups of inputs of which exactly one must be given.",
    )
    primary_overrides = serializers.SerializerMethodField()

    @extend_schema_field(PrimaryOverrideSerializer(many=True))
    def get_primary_overrides(self, system: ScoringSystem) -> list[dict[str, object]]:
        return [
            {
                "input": override.input,
                "required_for_primary": [
                    code for code in PRIMARY_CODES if not override.has_value(primary_mapping(code))
                ],
            }
            for override in system.primary_overrides
        ]


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class ScoreField(serializers.Field):  # type: ignore[type-arg]
    """An integer total, Bilsky's grade or Bollen's class letter, or null (radiosensitivity)."""

    def to_representation(self, value: int | str | None) -> int | str | None:
        return value


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]})
class ItemValueField(serializers.Field):  # type: ignore[type-arg]
    """The value an item was scored from: a choice code, a number or a boolean, as given."""

    def to_representation(self, value: str | float | bool) -> str | float | bool:
        return value


class CalculatorItemSerializer(serializers.Serializer[Any]):
    item = serializers.CharField()
    value = ItemValueField()
    points = serializers.IntegerField(allow_null=True, help_text="Null for systems without points.")


class CalculatorResultSerializer(serializers.Serializer[Any]):
    """The contract's calculator result, read from `ScoreResult.to_dict()`.

    `status` and `missing` are left out: the calculator answers a missing input with 400 (spec
    1.2), so every result it returns is complete. Bilsky's `rank` is for sorting case lists only.
    """

    system = serializers.ChoiceField(choices=tuple(REGISTRY))
    version = serializers.CharField()
    score = ScoreField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    category_label = serializers.CharField(allow_null=True)
    items = CalculatorItemSerializer(many=True)
    flags = serializers.ListField(
        child=serializers.CharField(), help_text="Spec 3.12 strings; provisional systems say so here."
    )
    citation = serializers.CharField()


class CalculatorInputSerializer(serializers.Serializer[Any]):
    """Base of the per-system request bodies; `system` is set on each generated subclass."""

    system: ScoringSystem


def _choices(spec: InputSpec) -> list[tuple[str, str]]:
    # The primary vocabulary has clinician labels; naming them makes its enum the schema's one
    # shared `PrimaryEnum` (settings ENUM_NAME_OVERRIDES) instead of a colliding copy.
    labels = dict(PRIMARY_CHOICES) if spec.choices == PRIMARY_CODES else {}
    return [(code, labels.get(code, code)) for code in spec.choices or ()]


def _input_field(spec: InputSpec) -> serializers.Field:  # type: ignore[type-arg]
    # Optional inputs accept null: the registry reads null as "not given" (spec 1.1).
    common: dict[str, Any] = {"required": spec.required, "allow_null": not spec.required, "help_text": spec.help}
    if spec.type == "choice":
        return serializers.ChoiceField(choices=_choices(spec), **common)
    if spec.type == "boolean":
        return serializers.BooleanField(**common)
    bounds: dict[str, Any] = {"min_value": spec.min, "max_value": spec.max}
    if spec.type == "integer":
        return serializers.IntegerField(**bounds, **common)
    return serializers.FloatField(**bounds, **common)


def _input_serializer(system: ScoringSystem) -> type[CalculatorInputSerializer]:
    rules = [f"Inputs of {system.title}."]
    rules += [f"Give exactly one of {' or '.join(group)}." for group in system.exactly_one_of]
    rules += [
        f"`{override.input}` is required when spec 2.1 gives the primary no {override.what}."
        for override in system.primary_overrides
    ]
    attrs: dict[str, Any] = {spec.name: _input_field(spec) for spec in system.inputs}
    attrs.update(system=system, __doc__=" ".join(rules), __module__=__name__)
    class_name = "".join(part.capitalize() for part in system.name.split("_")) + "CalculatorInput"
    return type(class_name, (CalculatorInputSerializer,), attrs)


# One request component per system, in registry order (generated, so never out of step).
CALCULATOR_INPUT_SERIALIZERS: dict[str, type[CalculatorInputSerializer]] = {
    name: _input_serializer(system) for name, system in REGISTRY.items()
}


class CalculatorInputExtension(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """Adds what DRF fields cannot say: unknown inputs are rejected, and KPS steps by 10."""

    target_class = CalculatorInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_basic_serializer(self.target, direction)  # type: ignore[no-untyped-call]
        schema["additionalProperties"] = False
        for spec in self.target.system.inputs:
            if spec.multiple_of is not None:
                schema["properties"][spec.name]["multipleOf"] = spec.multiple_of
        return schema
