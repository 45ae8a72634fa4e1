"""The audit log viewer (issue 9): chairs see access to their boards' data; administrators all."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied

from accounts.models import Membership, User
from common.filters import IdFilter
from common.models import AccessEvent


class AccessEventSerializer(serializers.ModelSerializer[AccessEvent]):
    class Meta:
        model = AccessEvent
        fields = (
            "id",
            "at",
            "username",
            "action",
            "resource",
            "object_id",
            "case_id",
            "board_id",
            "method",
            "path",
            "ip",
            "user_agent",
        )
        read_only_fields = fields


class AccessEventFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    username = django_filters.CharFilter()
    resource = django_filters.CharFilter(lookup_expr="startswith")
    action = django_filters.ChoiceFilter(choices=AccessEvent.Action.choices)
    case = IdFilter(field_name="case_id")
    board = IdFilter(field_name="board_id")
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AccessEvent
        fields = ("username", "resource", "action", "case", "board", "since", "until")


def audit_events_for_user(*, user: User) -> QuerySet[AccessEvent]:
    """Administrators see every event; a chair sees events about the boards they chair."""
    if user.is_staff:
        return AccessEvent.objects.all()
    chaired = list(Membership.objects.active().filter(user=user, is_chair=True).values_list("board_id", flat=True))
    if not chaired:
        raise PermissionDenied("The audit log is for board chairs and administrators.")
    return AccessEvent.objects.filter(board_id__in=chaired)


class AccessEventListView(generics.ListAPIView[AccessEvent]):
    serializer_class = AccessEventSerializer
    filterset_class = AccessEventFilter
    ordering = ("-at", "-id")
    ordering_fields = ("at",)

    def get_queryset(self) -> QuerySet[AccessEvent]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return AccessEvent.objects.none()
        return audit_events_for_user(user=self.request.user)  # type: ignore[arg-type]
