"""The application's URLs plus `/bench/ping/`, the stack's own ceiling (never in the app's URLs)."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tumourboard.urls import urlpatterns as app_urlpatterns


class PingView(APIView):
    """The trivial authenticated endpoint: the project's default authentication, permission and
    throttle classes, no database work beyond authenticating the token."""

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("bench/ping/", PingView.as_view(), name="bench-ping"), *app_urlpatterns]
