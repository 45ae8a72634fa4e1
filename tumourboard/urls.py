from django.contrib import admin
from django.urls import include, path

from accounts.views import landing
from common.views import audit_log, healthz

urlpatterns = [
    path("", landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("audit/", audit_log, name="audit-log"),
    path("accounts/otp/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("tumourboard.api_v1")),
    path("cases/", include("cases.urls")),
    path("", include("meetings.urls")),
    path("", include("scoring.urls")),
]
