from __future__ import annotations

import django_filters

from cases.models import Case
from cases.vocabulary import CaseStatus, Urgency
from common.filters import IdFilter


class CaseFilter(django_filters.FilterSet):
    board = IdFilter(field_name="board_id")
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    urgency = django_filters.MultipleChoiceFilter(choices=Urgency.choices)
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Case
        fields = ("board", "status", "urgency", "updated_since")
