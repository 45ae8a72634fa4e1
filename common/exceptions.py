"""One error shape for the API (contract "Conventions"): DRF's field-error shape.

400 `{"field": ["message"]}` with `non_field_errors` for whole-object problems (a body that is not
JSON is one); other statuses `{"detail": "message"}`, 413 for a body over the size limit. Domain
exceptions raised by services are translated here, so services stay free of HTTP.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from cases.lifecycle import InvalidTransition
from common.errors import StaleVersion

NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (NON_FIELD_ERRORS if field == "__all__" else field): [str(m) for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_errors(exc))
    elif isinstance(exc, exceptions.ParseError):
        # Malformed JSON is a problem of the whole body: a 400 carries field-level messages.
        exc = exceptions.ValidationError({NON_FIELD_ERRORS: [str(exc.detail)]})
    elif isinstance(exc, RequestDataTooBig):
        # Django's own answer would be its HTML 400 page; API clients get JSON and the limit.
        limit_kib = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return Response(
            {"detail": f"The request body is larger than the {limit_kib} KiB this API accepts."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, InvalidTransition):
        return Response(
            {"detail": str(exc), "status": exc.current, "target": exc.target}, status=status.HTTP_409_CONFLICT
        )
    elif isinstance(exc, StaleVersion):
        return Response(
            {"detail": str(exc), "current_version": exc.current}, status=status.HTTP_412_PRECONDITION_FAILED
        )
    return drf_exception_handler(exc, context)
