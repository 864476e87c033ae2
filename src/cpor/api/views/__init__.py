"""The REST API (/api/v1/). Each view parses input, calls one service or selector and
serialises the result; the rules and the permissions are the claims app's. One module
per resource: ``catalog``, ``claims``, ``associations``, ``customers``, ``webhooks``."""

from cpor.api.views.associations import (
    AssociationDetailView,
    AssociationExportView,
    AssociationListView,
    AssociationRevokeView,
    AssociationWithdrawView,
    ReviewQueueView,
)
from cpor.api.views.base import (
    ApiView,
)
from cpor.api.views.catalog import (
    CatalogView,
    LocationListView,
    ReasonsView,
)
from cpor.api.views.claims import (
    ClaimActionView,
    ClaimApproveView,
    ClaimBulkView,
    ClaimChecksView,
    ClaimDetailView,
    ClaimDisputeView,
    ClaimExportView,
    ClaimFileView,
    ClaimHistoryView,
    ClaimListView,
    ClaimNoteView,
    ClaimRejectView,
    ClaimReplyView,
    ClaimRequestInfoView,
    ClaimStartReviewView,
    ClaimSubmitView,
    ClaimWithdrawView,
    ProofDownloadView,
    ProofListView,
)
from cpor.api.views.customers import (
    CustomerAssociationDeclineView,
    CustomerAssociationListView,
    CustomerRequestDeclineView,
    CustomerRequestListView,
)
from cpor.api.views.webhooks import (
    UnknownPathView,
    WebhookDeliveryListView,
    WebhookDetailView,
    WebhookListView,
)

__all__ = [
    "ApiView",
    "AssociationDetailView",
    "AssociationExportView",
    "AssociationListView",
    "AssociationRevokeView",
    "AssociationWithdrawView",
    "CatalogView",
    "ClaimActionView",
    "ClaimApproveView",
    "ClaimBulkView",
    "ClaimChecksView",
    "ClaimDetailView",
    "ClaimDisputeView",
    "ClaimExportView",
    "ClaimFileView",
    "ClaimHistoryView",
    "ClaimListView",
    "ClaimNoteView",
    "ClaimRejectView",
    "ClaimReplyView",
    "ClaimRequestInfoView",
    "ClaimStartReviewView",
    "ClaimSubmitView",
    "ClaimWithdrawView",
    "CustomerAssociationDeclineView",
    "CustomerAssociationListView",
    "CustomerRequestDeclineView",
    "CustomerRequestListView",
    "LocationListView",
    "ProofDownloadView",
    "ProofListView",
    "ReasonsView",
    "ReviewQueueView",
    "UnknownPathView",
    "WebhookDeliveryListView",
    "WebhookDetailView",
    "WebhookListView",
]
