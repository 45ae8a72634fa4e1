"""Filter fields shared by the API's FilterSets."""

from __future__ import annotations

import django_filters
from django import forms

# Database keys are 64-bit: a larger number is a bad request, not a database error.
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class IdFilter(django_filters.NumberFilter):  # type: ignore[misc]  # django-filter is untyped
    """An id filter that answers 400 for non-integers and out-of-range values."""

    field_class = IdField
