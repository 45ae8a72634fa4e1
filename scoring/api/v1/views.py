"""Calculators REST API (contract "Calculators"): JSON body -> registry -> result JSON.

Calculators hold no patient data, so any authenticated user may use them (the global
`IsAuthenticated` default); there is nothing to scope to a board.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from scoring.api.v1.serializers import CALCULATOR_INPUT_SERIALIZERS, CalculatorResultSerializer, CalculatorSerializer
from scoring.registry import REGISTRY, InputError, get_system, validate_inputs

NAME_PARAM = OpenApiParameter(
    "name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(REGISTRY), description="The system's contract name."
)
# No discriminator: the body is the bare inputs object the contract fixes, and the path's `name`
# says which system it is; each component forbids unknown inputs, so at most one matches.
CALCULATOR_INPUT = PolymorphicProxySerializer(
    component_name="CalculatorInput",
    serializers=list(CALCULATOR_INPUT_SERIALIZERS.values()),
    resource_type_field_name=None,
)

FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}


class CalculatorListView(APIView):
    """`GET /api/v1/calculators/`: every scoring system and its input schema, from the registry."""

    @extend_schema(operation_id="calculators_list", responses={200: CalculatorSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(CalculatorSerializer(REGISTRY.values(), many=True).data)


class CalculatorView(APIView):
    """`POST /api/v1/calculators/<name>/`: score one system from the inputs in the body."""

    @extend_schema(
        operation_id="calculators_calculate",
        parameters=[NAME_PARAM],
        request=CALCULATOR_INPUT,
        responses={
            200: CalculatorResultSerializer,
            400: OpenApiResponse(
                response=FIELD_ERRORS,
                description="Field-level errors: {input: [message]}; `non_field_errors` for exactly-one-of "
                "and for a body that is not a JSON object.",
            ),
            404: OpenApiResponse(description="No system of that name"),
        },
    )
    def post(self, request: Request, name: str) -> Response:
        try:
            system = get_system(name)
        except KeyError:
            raise NotFound(f'No scoring system named "{name}".') from None
        try:
            result = system.compute(validate_inputs(system, request.data))
        except InputError as exc:
            raise ValidationError(exc.errors) from exc
        return Response(CalculatorResultSerializer(result.to_dict()).data)
