from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle

from accounts.api.v1.serializers import BoardSerializer
from accounts.models import Board
from accounts.selectors import board_list_for_user


class TokenObtainView(ObtainAuthToken):
    """`POST /api/v1/auth/token/`: username and password in, `{"token": ...}` out; 400 on bad credentials."""

    # Password guessing is throttled per address whatever the default throttles are.
    throttle_classes = (AnonRateThrottle,)


class BoardListView(generics.ListAPIView[Board]):
    """The boards the user belongs to, with the user's roles on each. Not paginated: a handful at most."""

    serializer_class = BoardSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Board]:
        return board_list_for_user(user=self.request.user)

    @extend_schema(operation_id="boards_list")
    def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)
