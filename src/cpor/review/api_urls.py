"""Reviewer workload and legacy association endpoints; the project's URLs include them
under /api/v1/ ahead of the API app, whose unknown paths answer a JSON 404."""

from django.urls import path

from cpor.review import apis

urlpatterns = [
    path("review/bulk/", apis.BulkDecisionView.as_view(), name="review-bulk"),
    path("review/claims/<int:pk>/assign/", apis.ClaimAssignView.as_view(), name="review-assign"),
    path("review/reviewers/", apis.ReviewerListView.as_view(), name="review-reviewers"),
    path(
        "review/reviewers/<int:pk>/duty/",
        apis.ReviewerDutyView.as_view(),
        name="review-reviewer-duty",
    ),
    path("review/saved-filters/", apis.SavedFilterListView.as_view(), name="review-saved-filters"),
    path(
        "review/saved-filters/<int:pk>/",
        apis.SavedFilterDetailView.as_view(),
        name="review-saved-filter",
    ),
    path(
        "legacy-associations/",
        apis.LegacyAssociationListView.as_view(),
        name="legacy-associations",
    ),
    path(
        "legacy-associations/import/",
        apis.LegacyImportView.as_view(),
        name="legacy-associations-import",
    ),
]
