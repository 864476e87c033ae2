"""Mounted at ``/organisation/single-sign-on/`` (``cpor.urls``)."""

from django.urls import path

from cpor.accounts import api, views

app_name = "accounts_sso"

urlpatterns = [path("", views.single_sign_on, name="single_sign_on")]

# Mounted at ``/api/v1/organisation/single-sign-on/`` (``cpor.urls``, before the API).
api_patterns = [path("", api.SignOnView.as_view(), name="api_single_sign_on")]
