from django.contrib import admin
from django.urls import include, path

from cpor import organisation_urls
from cpor.accounts import sso_urls
from cpor.web.views import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("organisation/single-sign-on/", include("cpor.accounts.sso_urls")),
    path(
        "api/v1/organisation/single-sign-on/",
        include((sso_urls.api_patterns, "accounts_sso_api")),
    ),
    # Issue 11: the partner admin's Organisation area (users, locations, customers, API
    # tokens, webhooks, audit trail), the program's PartnerID verification, the customer's
    # partner invitations, and their API endpoints (before the API's catch-all).
    path("organisation/", include("cpor.organisation_urls")),
    path("review/admin/locations/", include(organisation_urls.verification_patterns)),
    path("customer/partners/", include("cpor.customers.urls")),
    path("api/v1/", include(organisation_urls.api_patterns)),
    path("i18n/setlang/", set_language, name="set_language"),
    path("claims/", include("cpor.claims.urls")),
    path("review/analytics/", include("cpor.analytics.urls")),
    # Rate cards sit with the other program-admin pages, before review's own routes.
    path("review/admin/rate-cards/", include("cpor.earnings.admin_urls")),
    path("review/", include("cpor.review.urls")),
    path("customer/", include("cpor.consent.urls")),
    path("notifications/", include("cpor.notifications.urls")),
    path("usage/", include("cpor.usage.urls")),
    path("earnings/", include("cpor.earnings.urls")),
    path("api/v1/analytics/", include("cpor.analytics.api_urls")),
    # Issue 14 §4-5: reviewer workload and legacy associations (before the API's catch-all).
    path("api/v1/", include("cpor.review.api_urls")),
    path("api/", include("cpor.api.urls")),
    path("", include("cpor.ops.urls")),  # /health/live, /health/ready, /metrics
    path("", include("cpor.web.urls")),
]
