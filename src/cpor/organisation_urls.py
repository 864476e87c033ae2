"""The Organisation area (/organisation/): the partner admin's users, locations and
customer relationships (``cpor.partners``), API tokens and webhooks (``cpor.api.pages``,
moved here from /api/tokens/ and /api/webhooks/, which redirect) and the audit trail
(``cpor.audit``). Single sign-on (``/organisation/single-sign-on/``) is routed by
``cpor.accounts``; the area's navigation links it when it exists."""

from django.urls import path

from cpor.api import pages
from cpor.api.views import organisation as api
from cpor.audit import export_views
from cpor.audit import views as audit
from cpor.audit.api import AuditListView
from cpor.audit.export_api import ClaimHistoryExportView, FullTrailExportView
from cpor.partners import organisation_views as views

app_name = "organisation"
urlpatterns = [
    path("", views.organisation_home, name="home"),
    path("users/", views.users, name="users"),
    path("users/<int:pk>/role/", views.member_role, name="member_role"),
    path("users/<int:pk>/active/", views.member_active, name="member_active"),
    path("locations/", views.locations, name="locations"),
    path("customers/", views.customer_relationships, name="relationships"),
    path("api-tokens/", pages.tokens, name="tokens"),
    path("api-tokens/<int:pk>/revoke/", pages.token_revoke, name="token-revoke"),
    path("webhooks/", pages.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", pages.webhook_detail, name="webhook"),
    path("audit/", audit.audit_trail, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    # The history exports: the program admin's full trail, a partner's claim histories.
    path("audit/full-export/", export_views.full_trail, name="audit-full-export"),
    path("claim-histories/", export_views.claim_histories, name="claim-histories"),
]

# The program admin's verification of the PartnerIDs partner admins add.
verification_patterns = (
    [
        path("", views.location_verifications, name="verifications"),
        path("<int:pk>/decide/", views.location_decide, name="decide"),
    ],
    "partner_locations",
)

# The same through the API, under /api/v1/ (mounted before the API's own catch-all).
api_patterns = (
    [
        path("organisation/users/", api.MemberListView.as_view(), name="members"),
        path("organisation/users/<int:pk>/role/", api.MemberRoleView.as_view(), name="member-role"),
        path(
            "organisation/users/<int:pk>/active/",
            api.MemberActiveView.as_view(),
            name="member-active",
        ),
        path(
            "organisation/locations/",
            api.OrganisationLocationListView.as_view(),
            name="locations",
        ),
        path(
            "organisation/customers/",
            api.RelationshipListView.as_view(),
            name="relationships",
        ),
        path(
            "organisation/customers/accept/",
            api.RelationshipAcceptView.as_view(),
            name="relationship-accept",
        ),
        path("audit/", AuditListView.as_view(), name="audit"),
        path("program/audit-trail/", FullTrailExportView.as_view(), name="audit-full-export"),
        path(
            "organisation/claim-histories/",
            ClaimHistoryExportView.as_view(),
            name="claim-histories",
        ),
        path(
            "program/locations/",
            api.LocationVerificationListView.as_view(),
            name="verifications",
        ),
        path(
            "program/locations/<int:pk>/decide/",
            api.LocationDecisionView.as_view(),
            name="location-decide",
        ),
        path("tenants/<uuid:tenant_id>/", api.TenantLookupView.as_view(), name="tenant"),
        path(
            "tenants/<uuid:tenant_id>/subscriptions/check/",
            api.TenantSubscriptionCheckView.as_view(),
            name="tenant-subscriptions-check",
        ),
        path(
            "customer/invitations/",
            api.CustomerInvitationListView.as_view(),
            name="customer-invitations",
        ),
        path(
            "customer/invitations/<int:pk>/revoke/",
            api.CustomerInvitationRevokeView.as_view(),
            name="customer-invitation-revoke",
        ),
    ],
    "organisation_api",
)
