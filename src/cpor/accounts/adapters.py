"""django-allauth hooks: who may sign in, by which door, and with how many factors.

- No public sign-up: people are invited, or provisioned by single sign-on.
- Single sign-on (``SocialAccountAdapter.pre_social_login``): the identity is matched to
  a user by ``services.sso_user_for`` (connected, provisioned or refused with a page
  saying why) before allauth signs anyone in.
- Other doors (password, passkey) are refused to users whose organisation requires single
  sign-on, and to operator staff when ``CPOR_OPERATOR_IDP`` is set (``pre_login``).
- A sign-in whose identity provider asserted MFA (``amr`` holds ``mfa``) is not asked for
  CPOR's second factor too (``AuthenticateStage``) and satisfies the per-role rule for
  that session (``post_login``).
- A user provisioned by single sign-on has no password to reauthenticate with before
  enrolling a second factor: a sign-in through the IdP within the reauthentication
  timeout counts as one, and when it is older, signing in again through the IdP is the
  way offered (``is_reauthentication_required``, ``get_reauthentication_methods``).
- Wrong passwords are throttled per address, per (account, address) and, for an attack
  from many addresses, by a short account-wide backoff; never by a hard lock a stranger
  could hold on someone else's account (``sign_in_throttle``, through ``pre_authenticate``
  and ``authenticate``, which every password sign-in and reauthentication goes through).
"""

import logging
import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal.ratelimit import get_ip
from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from django.http import HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from cpor.accounts import sign_in_throttle
from cpor.accounts.oidc.provider import identity_email
from cpor.accounts.selectors import IDP_MFA_SESSION_KEY, sso_required_for
from cpor.accounts.services import SignInRefused, sso_user_for

logger = logging.getLogger(__name__)


def _idp_asserted_mfa(sociallogin) -> bool:
    if sociallogin is None:
        return False
    amr = sociallogin.account.extra_data.get("id_token", {}).get("amr") or []
    return "mfa" in amr


def _recent_idp_sign_in(request: HttpRequest | None) -> bool:
    """The signed-in user has no usable password and signed in through their identity
    provider within the reauthentication timeout: as fresh a proof as a password."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.has_usable_password():
        return False
    records = [
        record
        for record in get_authentication_records(request, user)
        if record.get("method") == "socialaccount"
    ]
    return bool(records) and (
        time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT
    )


def _login_of(credentials: dict) -> str:
    return credentials.get("email", credentials.get("username", "")) or ""


def refusal(request: HttpRequest, code: str, message: str):
    return render(
        request, "accounts/sign_in_refused.html", {"code": code, "message": message}, status=403
    )


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials) -> str:
        # allauth's per-key failure limit counts one account from one address.
        return sign_in_throttle.limit_key(_login_of(credentials), get_ip(request))

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        sign_in_throttle.check_attempt_allowed(request, _login_of(credentials))
        super().pre_authenticate(request, **credentials)

    def authenticate(self, request: HttpRequest, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            sign_in_throttle.record_success(request, _login_of(credentials))
        return user

    def authentication_failed(self, request: HttpRequest, **credentials) -> None:
        sign_in_throttle.record_failure(_login_of(credentials))
        super().authentication_failed(request, **credentials)

    def get_login_stages(self) -> list[str]:
        return [
            "cpor.accounts.adapters.AuthenticateStage"
            if path == "allauth.mfa.stages.AuthenticateStage"
            else path
            for path in super().get_login_stages()
        ]

    def pre_login(self, request: HttpRequest, user, **kwargs):
        signal_kwargs = kwargs.get("signal_kwargs") or {}
        if "sociallogin" not in signal_kwargs and user.is_active and sso_required_for(user):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            logger.info("sign-in refused: single sign-on required", extra={"user": user.pk})
            return refusal(
                request,
                "sso_required",
                # Said only after the password (or passkey) proved who this is.
                _(
                    "Your organisation signs in through single sign-on: use the “Sign in "
                    "with” button of your organisation's identity provider on the sign-in "
                    "page."
                ),
            )
        return super().pre_login(request, user, **kwargs)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        if _recent_idp_sign_in(self.request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def get_reauthentication_methods(self, user) -> list[dict]:
        methods = super().get_reauthentication_methods(user)
        if methods or not user.is_authenticated:
            return methods
        # No password and no second factor yet: sign in again through the IdP.
        account = SocialAccount.objects.filter(user=user).order_by("pk").first()
        if account is None:
            return methods
        return [
            {
                "id": "sso_reauthenticate",
                "description": _("Sign in again through your identity provider"),
                "url": reverse("openid_connect_login", args=[account.provider]),
            }
        ]

    def post_login(self, request: HttpRequest, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        request.session[IDP_MFA_SESSION_KEY] = _idp_asserted_mfa(sociallogin)
        return response


class AuthenticateStage(AllauthAuthenticateStage):
    """allauth's second-factor stage, skipped when the identity provider already did MFA."""

    def _should_handle(self, request: HttpRequest) -> bool:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        if _idp_asserted_mfa(sociallogin):
            return False
        return super()._should_handle(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:
        # Every new identity is connected or provisioned in pre_social_login, or refused.
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        claims = sociallogin.account.extra_data.get("id_token", {})
        connected = sociallogin.user if sociallogin.is_existing else None
        try:
            user = sso_user_for(
                provider_id=sociallogin.account.provider,
                claims=claims,
                email=identity_email(claims),
                connected=connected,
            )
        except SignInRefused as refused:
            logger.info(
                "single sign-on refused",
                extra={"code": refused.code, "provider": sociallogin.account.provider},
            )
            raise ImmediateHttpResponse(refusal(request, refused.code, refused.message)) from None
        if connected is None:
            sociallogin.connect(request, user)

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        logger.warning(
            "single sign-on failed",
            extra={
                "provider": getattr(provider, "id", ""),
                "error": str(error),
                "reason": getattr(
                    exception, "reason", type(exception).__name__ if exception else ""
                ),
            },
        )
        return super().on_authentication_error(request, provider, error, exception, extra_context)
