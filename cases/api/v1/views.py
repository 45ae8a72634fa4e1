"""Cases REST API (contract "Cases"): input serializer -> service -> output serializer."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors, services
from cases.api.v1.filters import CaseFilter
from cases.api.v1.serializers import (
    SECTION_SERIALIZERS,
    CaseCreateSerializer,
    CaseSerializer,
    ChecklistAckSerializer,
    HistoryEntrySerializer,
    ReopenSerializer,
    ScoreSerializer,
    SectionSerializer,
    UrgencyOverrideSerializer,
)
from cases.emergency import case_urgency_override, checklist_acknowledge, emergency_state
from cases.history import case_history
from cases.models import Case, SectionBase
from cases.readiness import case_missing
from cases.vocabulary import Discipline
from common.audit import note_case
from common.errors import StaleVersion
from common.http import if_match_version
from common.openapi import ERRORS
from scoring.selectors import case_recommendation, case_scores

DISCIPLINE_PARAM = OpenApiParameter(
    "discipline", OpenApiTypes.STR, OpenApiParameter.PATH, enum=[d.value for d in Discipline]
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the section as read; 428 when missing, 412 when stale.",
)


class CaseListCreateView(generics.ListCreateAPIView[Case]):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    ordering_fields = ("updated_at", "referral_date", "created_at", "id")
    ordering = ("-updated_at", "-id")

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.case_rows_for_user(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer, **ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CaseCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        board = data.validated_data.pop("board")
        membership = selectors.membership_for_case_board(user=request.user, board_id=board.pk)  # type: ignore[arg-type]
        if not selectors.can_coordinate(membership):
            raise PermissionDenied("Only the board's coordinators register cases.")
        case = services.case_create(board=board, created_by=request.user, **data.validated_data)  # type: ignore[arg-type]
        fresh = selectors.case_rows_for_user(user=request.user).get(pk=case.pk)  # type: ignore[arg-type]
        return Response(CaseSerializer(fresh).data, status=status.HTTP_201_CREATED)


class CaseDetailView(generics.RetrieveAPIView[Case]):
    serializer_class = CaseSerializer
    lookup_url_kwarg = "case_id"

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.case_rows_for_user(user=self.request.user)  # type: ignore[arg-type]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        note_case(request, case_id=case.pk, board_id=case.board_id)
        return Response(
            self.get_serializer(case).data,
            headers={"ETag": case.etag, "Last-Modified": http_date(case.updated_at.timestamp())},
        )


def _section_response(section: SectionBase, case: Case, *, status_code: int = 200) -> Response:
    serializer = SECTION_SERIALIZERS[section.DISCIPLINE](section, context={"case": case})
    headers = {"ETag": section.etag, "Last-Modified": http_date(section.updated_at.timestamp())}
    return Response(serializer.data, status=status_code, headers=headers)


def _visible_case(request: Request, case_id: int) -> Case:
    case = selectors.case_get_for_user(user=request.user, case_id=case_id)  # type: ignore[arg-type]
    note_case(request, case_id=case.pk, board_id=case.board_id)
    return case


def _check_discipline(discipline: str) -> None:
    if discipline not in SECTION_SERIALIZERS:
        raise Http404("No such section.")


class SectionView(APIView):
    """One discipline's section. Reads carry an ETag; writes need If-Match (412 stale, 428 missing)."""

    def get_serializer_class(self) -> type[SectionSerializer]:
        return SECTION_SERIALIZERS.get(self.kwargs.get("discipline", ""), SectionSerializer)

    @extend_schema(parameters=[DISCIPLINE_PARAM], responses={200: SectionSerializer, 404: ERRORS[404]})
    def get(self, request: Request, case_id: int, discipline: str) -> Response:
        _check_discipline(discipline)
        case = _visible_case(request, case_id)
        return _section_response(selectors.section_of(case, discipline), case)

    @extend_schema(
        parameters=[DISCIPLINE_PARAM, IF_MATCH], request=SectionSerializer, responses={200: SectionSerializer, **ERRORS}
    )
    def put(self, request: Request, case_id: int, discipline: str) -> Response:
        return self._write(request, case_id, discipline, partial=False)

    @extend_schema(
        parameters=[DISCIPLINE_PARAM, IF_MATCH], request=SectionSerializer, responses={200: SectionSerializer, **ERRORS}
    )
    def patch(self, request: Request, case_id: int, discipline: str) -> Response:
        return self._write(request, case_id, discipline, partial=True)

    def _write(self, request: Request, case_id: int, discipline: str, *, partial: bool) -> Response:
        _check_discipline(discipline)
        case = _visible_case(request, case_id)
        membership = selectors.membership_for_case(user=request.user, case=case)  # type: ignore[arg-type]
        if not selectors.can_edit_section(membership, discipline):
            raise PermissionDenied(
                f"Only the board's {Discipline(discipline).label.split(' ')[0].lower()} specialists edit this section."
            )
        with transaction.atomic():
            section = selectors.section_get_for_update(case=case, discipline=discipline)
            expected = if_match_version(request, current_etag=section.etag)
            if expected != section.version:
                return _stale(section, case, expected)
            serializer = SECTION_SERIALIZERS[discipline](
                section, data=request.data, partial=partial, context={"case": case}
            )
            serializer.is_valid(raise_exception=True)
            values = dict(serializer.validated_data)
            lesions = values.pop("lesions", None)
            if not partial:
                # PUT replaces the section: what the body leaves out is cleared.
                for name in serializer.clinical_fields():
                    values.setdefault(name, section._meta.get_field(name).get_default())
                lesions = lesions if lesions is not None else []
            services.section_update(
                section=section,
                by=request.user,  # type: ignore[arg-type]
                expected_version=expected,
                fields=values,
                lesions=lesions,
            )
        case = _visible_case(request, case_id)
        return _section_response(selectors.section_of(case, discipline), case)


def _stale(section: SectionBase, case: Case, expected: int) -> Response:
    """412 with the current section, so the client can show the other person's change and keep
    its own input."""
    current = SECTION_SERIALIZERS[section.DISCIPLINE](section, context={"case": case}).data
    return Response(
        {
            "detail": f"You edited version {expected}, but the current version is {section.version}.",
            "current_version": section.version,
            "current": current,
        },
        status=status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": section.etag},
    )


class _SectionActionView(APIView):
    def _locked_section(
        self, request: Request, case_id: int, discipline: str
    ) -> tuple[Case, SectionBase, int | Response]:
        _check_discipline(discipline)
        case = _visible_case(request, case_id)
        membership = selectors.membership_for_case(user=request.user, case=case)  # type: ignore[arg-type]
        if not selectors.can_edit_section(membership, discipline):
            raise PermissionDenied("Only the owning discipline may submit or reopen this section.")
        section = selectors.section_get_for_update(case=case, discipline=discipline)
        expected = if_match_version(request, current_etag=section.etag)
        if expected != section.version:
            return case, section, _stale(section, case, expected)
        return case, section, expected


class SectionSubmitView(_SectionActionView):
    @extend_schema(parameters=[DISCIPLINE_PARAM, IF_MATCH], request=None, responses={200: SectionSerializer, **ERRORS})
    def post(self, request: Request, case_id: int, discipline: str) -> Response:
        with transaction.atomic():
            case, section, expected = self._locked_section(request, case_id, discipline)
            if isinstance(expected, Response):
                return expected
            services.section_submit(section=section, by=request.user, expected_version=expected)  # type: ignore[arg-type]
        case = _visible_case(request, case_id)
        return _section_response(selectors.section_of(case, discipline), case)


class SectionReopenView(_SectionActionView):
    @extend_schema(
        parameters=[DISCIPLINE_PARAM, IF_MATCH], request=ReopenSerializer, responses={200: SectionSerializer, **ERRORS}
    )
    def post(self, request: Request, case_id: int, discipline: str) -> Response:
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            case, section, expected = self._locked_section(request, case_id, discipline)
            if isinstance(expected, Response):
                return expected
            services.section_reopen(
                section=section,
                by=request.user,  # type: ignore[arg-type]
                expected_version=expected,
                reason=body.validated_data["reason"],
            )
        case = _visible_case(request, case_id)
        return _section_response(selectors.section_of(case, discipline), case)


class CaseScoresView(APIView):
    @extend_schema(responses={200: ScoreSerializer(many=True), 404: ERRORS[404]})
    def get(self, request: Request, case_id: int) -> Response:
        case = _visible_case(request, case_id)
        return Response(case_scores(case=case))


class CaseReadinessView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: ERRORS[404]})
    def get(self, request: Request, case_id: int) -> Response:
        case = _visible_case(request, case_id)
        missing = case_missing(case)
        return Response({"ready": not missing, "status": case.status, "missing": [m.as_dict() for m in missing]})


class CaseRecommendationView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: ERRORS[404]})
    def get(self, request: Request, case_id: int) -> Response:
        """The stored NOMS proposal (spec 5.2): decision support, with the rules that fired."""
        case = _visible_case(request, case_id)
        recommendation = case_recommendation(case=case)
        if recommendation is None:
            raise Http404("No proposal has been computed for this case yet.")
        return Response(recommendation)


def _emergency_body(case: Case) -> dict[str, Any]:
    state = emergency_state(case=case)
    clock = None
    if state.clock is not None:
        clock = {
            "started_at": state.clock.started_at,
            "deadline": state.clock.deadline,
            "breached": state.clock.breached,
            "met": state.clock.met,
            **{
                name: {
                    "status": sub.status,
                    "stopped_at": sub.stopped_at,
                    "elapsed_seconds": int(sub.elapsed.total_seconds()),
                    "remaining_seconds": int(sub.remaining.total_seconds()),
                }
                for name, sub in (("imaging", state.clock.imaging), ("plan", state.clock.plan))
            },
        }
    return {
        "emergency": state.emergency,
        "since": state.since,
        "clauses": state.clauses,
        "reasons": state.reasons,
        "checklist": state.checklist if state.since else [],
        "clock": clock,
    }


class CaseEmergencyView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: ERRORS[404]})
    def get(self, request: Request, case_id: int) -> Response:
        """The MSCC pathway (spec 6): trigger, checklist with acknowledgements, 24-hour clock."""
        return Response(_emergency_body(_visible_case(request, case_id)))


class ChecklistAckView(APIView):
    @extend_schema(request=ChecklistAckSerializer, responses={201: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request, case_id: int, step: str) -> Response:
        case = _visible_case(request, case_id)
        membership = selectors.membership_for_case(user=request.user, case=case)  # type: ignore[arg-type]
        if membership is None or not membership.can_write:
            raise PermissionDenied("Read-only members cannot acknowledge checklist steps.")
        body = ChecklistAckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        checklist_acknowledge(case=case, step=step, by=request.user, note=body.validated_data["note"])  # type: ignore[arg-type]
        return Response(_emergency_body(case), status=status.HTTP_201_CREATED)


class CaseUrgencyView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
        request=UrgencyOverrideSerializer,
        responses={200: CaseSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        """The chair sets the urgency (spec 6.5); lowering below the computed value needs a reason."""
        case = _visible_case(request, case_id)
        membership = selectors.membership_for_case(user=request.user, case=case)  # type: ignore[arg-type]
        if not (membership and membership.can_write and membership.is_chair):
            raise PermissionDenied("Only the board's chair sets the urgency.")
        body = UrgencyOverrideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            locked = selectors.case_get_for_user(user=request.user, case_id=case_id, for_update=True)  # type: ignore[arg-type]
            expected = if_match_version(request, current_etag=locked.etag)
            if expected != locked.version:
                raise StaleVersion(expected=expected, current=locked.version)
            case_urgency_override(case=locked, by=request.user, **body.validated_data)  # type: ignore[arg-type]
        fresh = _visible_case(request, case_id)
        return Response(CaseSerializer(fresh).data, headers={"ETag": fresh.etag})


class CaseHistoryView(APIView):
    @extend_schema(responses={200: HistoryEntrySerializer(many=True), 404: ERRORS[404]})
    def get(self, request: Request, case_id: int) -> Response:
        case = _visible_case(request, case_id)
        return Response([entry.as_dict() for entry in case_history(case)])
