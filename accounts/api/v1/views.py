from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from accounts import otp
from accounts.api.v1.serializers import BoardSerializer
from accounts.models import Board, User
from accounts.reauth import LockedOut
from accounts.selectors import board_list_for_user


class TokenRequestSerializer(AuthTokenSerializer):
    otp = serializers.CharField(
        required=False, allow_blank=True, write_only=True, max_length=16,
        help_text="The current code of your authenticator app, or a recovery code; required once you have set one up.",
    )  # fmt: skip


class TokenObtainView(ObtainAuthToken):
    """`POST /api/v1/auth/token/`: username and password (and, with two-factor authentication set
    up, `otp`) in, `{"token": ...}` out; 400 on bad credentials, 429 while locked out.

    Chairs and coordinators must set up two-factor authentication in the browser before they can
    get a token. Service accounts never give a code: they are REST clients, read-only, and their
    token is their credential (keep it in a secret store; rotate it by deleting it in the admin).
    """

    serializer_class = TokenRequestSerializer
    # Password guessing is throttled per address whatever the default throttles are; repeated
    # failures also lock the username and the address out (django-axes, see settings).
    throttle_classes = (AnonRateThrottle,)

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Bad credentials, or `otp` missing or wrong: {field: [message]}"),
            429: OpenApiResponse(description="Too many failures: locked out for a while (see Retry-After)"),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes refused the attempt (or this one reached the limit): authenticate() was
            # given this request and flagged it.
            if getattr(request, "axes_locked_out", False):
                return locked_out_response()
            raise ValidationError(serializer.errors)
        user: User = serializer.validated_data["user"]
        _check_second_factor(user, serializer.validated_data.get("otp", ""))
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


def _check_second_factor(user: User, code: str) -> None:
    if user.is_service_account:
        return
    if otp.otp_enrolled(user):
        if not code:
            raise ValidationError({"otp": ["Enter the code from your authenticator app (or a recovery code)."]})
        if otp.otp_verify(user=user, token=code) is None:
            raise ValidationError({"otp": ["That code is not valid."]})
    elif otp.otp_required_for(user):
        raise ValidationError(
            {
                "otp": [
                    "Chairs and coordinators need two-factor authentication: set it up in the browser "
                    "(/accounts/otp/setup/) before requesting a token."
                ]
            }
        )


def locked_out_response() -> Response:
    """429 with Retry-After while django-axes refuses this username or address (any API view)."""
    locked = LockedOut()
    return Response(
        {"detail": str(locked)},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(locked.retry_after_seconds)},
    )


class BoardListView(generics.ListAPIView[Board]):
    """The boards the user belongs to, with the user's roles on each. Not paginated: a handful at most."""

    serializer_class = BoardSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Board]:
        return board_list_for_user(user=self.request.user)

    @extend_schema(operation_id="boards_list")
    def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)
