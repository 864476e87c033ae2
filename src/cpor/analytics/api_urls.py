"""Analytics endpoints, included under /api/v1/analytics/."""

from django.urls import path

from cpor.analytics import api

urlpatterns = [
    path("<slug:report>/", api.AnalyticsTableView.as_view(), name="analytics-table"),
]
