"""The per-role second factor, enforced: a signed-in user whose role needs MFA
(``CPOR_MFA_REQUIRED_ROLES``) and who has neither an authenticator app nor a passkey
reaches only the enrolment pages, signing out and the language switch, until enrolled.
Pages redirect to enrolment; the REST API (``/api/v1/``) answers 403
``mfa_enrolment_required``.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from cpor.accounts.selectors import mfa_enrolment_missing

ENROLMENT_URL_NAMES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "mfa_list_webauthn",
        "mfa_reauthenticate",
        "mfa_reauthenticate_webauthn",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "account_reauthenticate",
        # A user without a password reauthenticates by signing in through their IdP.
        "openid_connect_login",
        "openid_connect_callback",
        "account_logout",
        "set_language",
    }
)


def enrolment_message() -> str:
    return _(
        "Your role requires two-factor authentication. Add an authenticator app or a "
        "passkey to continue."
    )


class MfaEnrolmentMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not self._allowed(request)
            and mfa_enrolment_missing(user, request.session)
        ):
            if request.path_info.startswith("/api/v1/"):
                return JsonResponse(
                    {
                        "code": "mfa_enrolment_required",
                        "message": enrolment_message(),
                        "field": None,
                    },
                    status=403,
                )
            messages.warning(request, enrolment_message())
            return redirect("mfa_index")
        return self.get_response(request)

    @staticmethod
    def _allowed(request: HttpRequest) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.url_name in ENROLMENT_URL_NAMES
