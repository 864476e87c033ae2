from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from cpor.api import pages, views

app_name = "api"

v1 = [
    path("catalog/", views.CatalogView.as_view(), name="catalog"),
    path("reasons/", views.ReasonsView.as_view(), name="reasons"),
    path("locations/", views.LocationListView.as_view(), name="locations"),
    path("claims/", views.ClaimListView.as_view(), name="claim-list"),
    path("claims/bulk/", views.ClaimBulkView.as_view(), name="claim-bulk"),
    path("claims/file/", views.ClaimFileView.as_view(), name="claim-file"),
    path("claims/export/", views.ClaimExportView.as_view(), name="claim-export"),
    path("claims/<int:pk>/", views.ClaimDetailView.as_view(), name="claim-detail"),
    path("claims/<int:pk>/checks/", views.ClaimChecksView.as_view(), name="claim-checks"),
    path("claims/<int:pk>/submit/", views.ClaimSubmitView.as_view(), name="claim-submit"),
    path("claims/<int:pk>/withdraw/", views.ClaimWithdrawView.as_view(), name="claim-withdraw"),
    path("claims/<int:pk>/reply/", views.ClaimReplyView.as_view(), name="claim-reply"),
    path("claims/<int:pk>/dispute/", views.ClaimDisputeView.as_view(), name="claim-dispute"),
    path("claims/<int:pk>/proofs/", views.ProofListView.as_view(), name="claim-proofs"),
    path(
        "claims/<int:pk>/proofs/<int:proof_pk>/download/",
        views.ProofDownloadView.as_view(),
        name="claim-proof-download",
    ),
    path("claims/<int:pk>/history/", views.ClaimHistoryView.as_view(), name="claim-history"),
    path(
        "claims/<int:pk>/start-review/",
        views.ClaimStartReviewView.as_view(),
        name="claim-start-review",
    ),
    path("claims/<int:pk>/approve/", views.ClaimApproveView.as_view(), name="claim-approve"),
    path("claims/<int:pk>/reject/", views.ClaimRejectView.as_view(), name="claim-reject"),
    path(
        "claims/<int:pk>/request-info/",
        views.ClaimRequestInfoView.as_view(),
        name="claim-request-info",
    ),
    path("claims/<int:pk>/notes/", views.ClaimNoteView.as_view(), name="claim-notes"),
    path("review/queue/", views.ReviewQueueView.as_view(), name="review-queue"),
    path("associations/", views.AssociationListView.as_view(), name="association-list"),
    path(
        "associations/export/",
        views.AssociationExportView.as_view(),
        name="association-export",
    ),
    path(
        "associations/<int:pk>/",
        views.AssociationDetailView.as_view(),
        name="association-detail",
    ),
    path(
        "associations/<int:pk>/withdraw/",
        views.AssociationWithdrawView.as_view(),
        name="association-withdraw",
    ),
    path(
        "associations/<int:pk>/revoke/",
        views.AssociationRevokeView.as_view(),
        name="association-revoke",
    ),
    path(
        "customer/associations/",
        views.CustomerAssociationListView.as_view(),
        name="customer-associations",
    ),
    path(
        "customer/associations/<int:pk>/decline/",
        views.CustomerAssociationDeclineView.as_view(),
        name="customer-association-decline",
    ),
    path("customer/requests/", views.CustomerRequestListView.as_view(), name="customer-requests"),
    path(
        "customer/requests/<int:pk>/decline/",
        views.CustomerRequestDeclineView.as_view(),
        name="customer-request-decline",
    ),
    path("webhooks/", views.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>/", views.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:pk>/deliveries/",
        views.WebhookDeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
]
v1 += [
    # The usage app's endpoints, then every other path is a JSON 404.
    path("usage/", include("cpor.usage.api_urls")),
    re_path(r"^.*$", views.UnknownPathView.as_view(), name="unknown"),
]

public = {"permission_classes": [AllowAny], "authentication_classes": []}

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(**public), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", **public), name="docs"),
    path(
        "docs/redoc/", SpectacularRedocView.as_view(url_name="api:schema", **public), name="redoc"
    ),
    path("tokens/", pages.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke, name="token-revoke"),
    path("webhooks/", pages.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", pages.webhook_detail, name="webhook"),
]
