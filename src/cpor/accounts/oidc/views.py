"""allauth's OpenID Connect login and callback views, run with CPOR's adapter."""

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404, HttpRequest

from cpor.accounts.oidc.provider import CporOIDCAdapter


class CallbackView(OAuth2CallbackView):
    def _get_state(self, request: HttpRequest, provider):
        state, response = super()._get_state(request, provider)
        if state is not None:
            self.adapter.expected_nonce = state.get("nonce")
        return state, response


@login_not_required
def login(request: HttpRequest, provider_id: str):
    try:
        return OAuth2LoginView.adapter_view(CporOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required
def callback(request: HttpRequest, provider_id: str):
    try:
        return CallbackView.adapter_view(CporOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
