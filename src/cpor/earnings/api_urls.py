"""Earnings endpoints; the API includes them under /api/v1/earnings/."""

from django.urls import path

from cpor.earnings import apis

urlpatterns = [
    path("associations/", apis.EarningsListView.as_view(), name="earnings-list"),
    path("associations/<int:pk>/", apis.EarningsDetailView.as_view(), name="earnings-detail"),
    path("totals/", apis.EarningsTotalsView.as_view(), name="earnings-totals"),
    path("export/", apis.EarningsExportView.as_view(), name="earnings-export"),
    path("liability/", apis.LiabilityView.as_view(), name="earnings-liability"),
    path("rate-cards/", apis.RateCardListView.as_view(), name="rate-card-list"),
    path("rate-cards/<int:pk>/", apis.RateCardDetailView.as_view(), name="rate-card-detail"),
]
