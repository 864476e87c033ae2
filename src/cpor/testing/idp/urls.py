from django.urls import include, path

from cpor.testing.idp import views

urlpatterns = [
    path(".well-known/openid-configuration", views.discovery),
    path("login/", views.sign_in),
    path("control/<str:action>/", views.control),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
