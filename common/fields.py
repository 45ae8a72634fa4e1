"""Strict serializer fields: wrong types are errors, never silently coerced (spec 1.1).

DRF's defaults accept "true" for a boolean and 5.0 for an integer; clinical input must be what the
client meant, so these fields accept only JSON booleans, JSON integers and listed codes.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false (JSON boolean), not {input!r}."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        raise AssertionError("unreachable")  # pragma: no cover - fail() raises


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {
        "invalid": "Must be a whole number (JSON integer), not {input!r}.",
        "multiple_of": "Must be a multiple of {step}; {value} is not (values are never rounded).",
    }

    def __init__(self, *, multiple_of: int | None = None, **kwargs: Any) -> None:
        self.multiple_of = multiple_of
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid", input=data)
        value = super().to_internal_value(data)
        if self.multiple_of and value % self.multiple_of:
            self.fail("multiple_of", step=self.multiple_of, value=value)
        return int(value)


class CodeField(serializers.ChoiceField):
    """A coded value; null means "not recorded" and is stored as the empty string."""

    default_error_messages = {"invalid_choice": "{input!r} is not one of the allowed values: {allowed}."}

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if data is None:
            return ""
        if not isinstance(data, str) or data not in self.choice_strings_to_values:
            self.fail("invalid_choice", input=data, allowed=", ".join(self.choice_strings_to_values))
        return str(self.choice_strings_to_values[data])

    # DRF's own ChoiceField also returns None for None; the stubs type its result as str.
    def to_representation(self, value: Any) -> str | None:  # type: ignore[override]
        return value or None

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class RejectUnknownFieldsMixin:
    """Unknown keys are a 400 naming each key, not silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(self.fields)  # type: ignore[attr-defined]
            unknown = sorted(set(data) - known)
            if unknown:
                allowed = ", ".join(sorted(n for n, f in self.fields.items() if not f.read_only))  # type: ignore[attr-defined]
                raise serializers.ValidationError(
                    {name: [f"Unknown field. Allowed fields: {allowed}."] for name in unknown}
                )
        return super().to_internal_value(data)  # type: ignore[misc]
