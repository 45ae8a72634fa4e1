"""`/api/v1/`: assembled from each app's api/v1/urls.py."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from common.api.v1.audit import AccessEventListView

urlpatterns = [
    path("", include("accounts.api.v1.urls")),
    path("", include("cases.api.v1.urls")),
    path("", include("meetings.api.v1.urls")),
    path("", include("meetings.api.v1.records_urls")),
    path("", include("cases.api.v1.fhir_urls")),
    path("", include("scoring.api.v1.urls")),
    path("audit/", AccessEventListView.as_view(), name="api-audit"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("schema/swagger/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-swagger"),
    path("schema/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
