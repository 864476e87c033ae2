from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("claims/", include("cpor.claims.urls")),
    path("review/", include("cpor.review.urls")),
    path("customer/", include("cpor.consent.urls")),
    path("notifications/", include("cpor.notifications.urls")),
    path("usage/", include("cpor.usage.urls")),
    path("api/", include("cpor.api.urls")),
    path("", include("cpor.web.urls")),
]
