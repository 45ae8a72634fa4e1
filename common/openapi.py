"""Error responses documented on every write endpoint (contract "Conventions"), in one place."""

from __future__ import annotations

from typing import Final

from drf_spectacular.utils import OpenApiResponse

ERRORS: Final = {
    400: OpenApiResponse(description="Field-level errors: {field: [message]}, non_field_errors for the whole object"),
    403: OpenApiResponse(description="Visible, but your role may not do this"),
    404: OpenApiResponse(description="Not on your boards"),
    409: OpenApiResponse(description="Not allowed in the current state"),
    412: OpenApiResponse(description="Stale If-Match or version: someone changed it since you read it"),
    413: OpenApiResponse(description="Request body over 1 MiB"),
    428: OpenApiResponse(description="If-Match missing"),
}
