"""The provider's URLs, named as allauth's OpenID Connect app names them:
``/accounts/oidc/<provider_id>/login/`` and ``…/login/callback/``."""

from allauth.socialaccount import app_settings
from django.urls import include, path

from cpor.accounts.oidc import views

urlpatterns = [
    path(
        "<str:provider_id>/",
        include(
            [
                path("login/", views.login, name="openid_connect_login"),
                path("login/callback/", views.callback, name="openid_connect_callback"),
            ]
        ),
    )
]
if app_settings.OPENID_CONNECT_URL_PREFIX:
    urlpatterns = [path(f"{app_settings.OPENID_CONNECT_URL_PREFIX}/", include(urlpatterns))]
