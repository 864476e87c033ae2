from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("claims/", include("cpor.claims.urls")),
    path("review/", include("cpor.review.urls")),
    path("customer/", include("cpor.consent.urls")),
    path("notifications/", include("cpor.notifications.urls")),
    path("usage/", include("cpor.usage.urls")),
    path("api/", include("cpor.api.urls")),
    path("", include("cpor.web.urls")),
]
