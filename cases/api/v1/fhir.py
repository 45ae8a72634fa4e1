"""`GET /api/v1/cases/<id>/fhir/`: the case and its board decision as a FHIR R4 Bundle (issue 8).

The answer is always `application/fhir+json`, whatever the client's Accept header: the endpoint has
one representation, and FHIR clients commonly send `application/json` or `*/*`. A case without a
finalised decision is still exported (Patient, Conditions, Observations) with an informational
OperationOutcome entry in place of the CarePlan and DocumentReference; see `cases.fhir`.
"""

from __future__ import annotations

from collections.abc import Iterable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.fhir import FHIR_JSON, case_fhir_bundle
from cases.selectors import case_get_for_user
from common.audit import note_case


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirOnlyNegotiation(BaseContentNegotiation):
    """One representation: FHIR JSON for every Accept header (errors included)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class CaseFhirView(APIView):
    renderer_classes = (FhirJSONRenderer,)
    content_negotiation_class = FhirOnlyNegotiation

    @extend_schema(
        summary="FHIR R4 Bundle of the case and its board decision",
        description=(
            "A `collection` Bundle: Patient, Conditions (primary cancer, spinal metastasis with a body site per "
            "level), score Observations (SINS, Bilsky, Karnofsky/ECOG, survival scores, with their items as "
            "components) and, once the decision is finalised, a CarePlan for the plan as signed and a "
            "DocumentReference to the ready PDF record. Profiles from mCODE where they apply. Without a "
            "finalised decision (or before its PDF is rendered) an OperationOutcome entry says what is left out."
        ),
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="FHIR R4 Bundle (application/fhir+json)"),
            404: OpenApiResponse(description="Not on your boards"),
        },
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = case_get_for_user(user=request.user, case_id=case_id)  # type: ignore[arg-type]
        note_case(request, case_id=case.pk, board_id=case.board_id)
        return Response(case_fhir_bundle(case=case, base_url=request.build_absolute_uri("/")))
