"""Usage endpoints; the API includes them under /api/v1/usage/."""

from django.urls import path

from cpor.usage import apis

urlpatterns = [
    path("units/", apis.UnitUsageListView.as_view(), name="usage-unit-list"),
    path("units/<int:pk>/", apis.UnitUsageDetailView.as_view(), name="usage-unit-detail"),
    path("totals/", apis.UsageTotalsView.as_view(), name="usage-totals"),
]
