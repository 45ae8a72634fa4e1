from django.urls import path

from accounts.api.v1 import views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="api-token"),
    path("boards/", views.BoardListView.as_view(), name="api-boards"),
]
