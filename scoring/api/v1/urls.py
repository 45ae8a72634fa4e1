from django.urls import path

from scoring.api.v1 import views

urlpatterns = [
    path("calculators/", views.CalculatorListView.as_view(), name="api-calculators"),
    path("calculators/<str:name>/", views.CalculatorView.as_view(), name="api-calculator"),
]
