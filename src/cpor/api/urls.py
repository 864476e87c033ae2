from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace, csp_update
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from cpor.api import views

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
    path("earnings/", include("cpor.earnings.api_urls")),
    # [\s\S], not ".": a path with an encoded newline (%0A) is a path too.
    re_path(r"^[\s\S]*$", views.UnknownPathView.as_view(), name="unknown"),
]

public = {"permission_classes": [AllowAny], "authentication_classes": []}


# ReDoc's bundle (styled-components) inserts <style> elements it cannot give a nonce, runs
# its search in a blob: worker and shows its logo from its CDN. Only on its page, which
# shows our own schema and nothing a user wrote; scripts stay nonce-only there too.
def redoc_csp(view):
    # style-src is replaced, not extended: next to a nonce, 'unsafe-inline' is ignored.
    view = csp_replace({"style-src": [SELF, UNSAFE_INLINE]})(view)
    return csp_update({"worker-src": [SELF, "blob:"], "img-src": ["https://cdn.redoc.ly"]})(view)


urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(**public), name="schema"),
    # drf-spectacular's pages in templates that declare their language and load no fonts
    # from elsewhere.
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="api:schema", template_name="api/docs_swagger.html", **public
        ),
        name="docs",
    ),
    path(
        "docs/redoc/",
        redoc_csp(
            SpectacularRedocView.as_view(
                url_name="api:schema", template_name="api/docs_redoc.html", **public
            )
        ),
        name="redoc",
    ),
    # The token and webhook pages moved to the Organisation area; old links still work.
    path("tokens/", RedirectView.as_view(pattern_name="organisation:tokens"), name="tokens"),
    path("webhooks/", RedirectView.as_view(pattern_name="organisation:webhooks"), name="webhooks"),
    path(
        "webhooks/<int:pk>/",
        RedirectView.as_view(pattern_name="organisation:webhook"),
        name="webhook",
    ),
]
