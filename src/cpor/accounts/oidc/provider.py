"""allauth's OpenID Connect provider with CPOR's checks (installed in its place through
``SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"]``, so SocialApps keep
``provider = "openid_connect"``).

What differs: PKCE and a nonce on every sign-in, every id_token verified (``tokens``),
the identity taken from the id_token alone (``tid``, ``oid``, ``amr``), the account
keyed by Entra's ``oid`` (stable, unlike the pairwise ``sub``) and the e-mail taken as
verified: the program admin who configured the provider trusts it.
"""

import secrets

from allauth.account.models import EmailAddress
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

from cpor.accounts.oidc.tokens import verify_id_token


def identity_email(claims: dict) -> str:
    """The person's e-mail: ``email``, or Entra's sign-in name when it is an address."""
    email = claims.get("email") or ""
    if not email and "@" in (claims.get("preferred_username") or ""):
        email = claims["preferred_username"]
    return email.strip().lower()


class CporOIDCAdapter(OpenIDConnectOAuth2Adapter):
    # Set by the callback view from the sign-in's stashed state.
    expected_nonce: str | None = None

    def complete_login(self, request, app, token, **kwargs):
        raw = kwargs["response"].get("id_token")
        if not raw:
            from cpor.accounts.oidc.tokens import IdTokenRefused

            raise IdTokenRefused("missing")
        claims = verify_id_token(
            raw,
            openid_config=self.openid_config,
            client_id=app.client_id,
            nonce=self.expected_nonce,
        )
        return self.get_provider().sociallogin_from_response(request, {"id_token": claims})


class CporOIDCProvider(OpenIDConnectProvider):
    oauth2_adapter_class = CporOIDCAdapter
    pkce_enabled_default = True

    def get_pkce_params(self) -> dict:
        params = super().get_pkce_params()
        if not params:  # PKCE is not optional here, whatever the app's settings say
            from allauth.socialaccount.providers.oauth2.utils import generate_code_challenge

            params = generate_code_challenge()
        return params

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonce
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )

    def extract_uid(self, data):
        claims = data.get("id_token", data)
        return str(claims.get("oid") or claims["sub"])

    def extract_common_fields(self, data):
        fields = super().extract_common_fields(data)
        fields["email"] = identity_email(data.get("id_token", data))
        return fields

    def extract_email_addresses(self, data):
        email = identity_email(data.get("id_token", data))
        return [EmailAddress(email=email, verified=True, primary=True)] if email else []


provider_classes = [CporOIDCProvider]
