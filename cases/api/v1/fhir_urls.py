"""URL of the FHIR export; `tumourboard/api_v1.py` includes it under `/api/v1/`."""

from django.urls import path

from cases.api.v1.fhir import CaseFhirView

urlpatterns = [
    path("cases/<int:case_id>/fhir/", CaseFhirView.as_view(), name="api-case-fhir"),
]
