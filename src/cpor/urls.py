from django.contrib import admin
from django.urls import include, path

from cpor.web.views import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("claims/", include("cpor.claims.urls")),
    path("review/", include("cpor.review.urls")),
    path("customer/", include("cpor.consent.urls")),
    path("notifications/", include("cpor.notifications.urls")),
    path("usage/", include("cpor.usage.urls")),
    path("api/", include("cpor.api.urls")),
    path("", include("cpor.web.urls")),
]
