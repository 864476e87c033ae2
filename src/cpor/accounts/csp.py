"""The sign-in page's Content-Security-Policy names the identity providers' hosts.

"Sign in with ..." posts to allauth, which redirects to the provider's authorization
endpoint; browsers hold a form's redirects to the page's form-action ('self' for the site),
so without the providers' origins single sign-on stops at that redirect."""

from collections.abc import Callable
from urllib.parse import urlsplit

from allauth.socialaccount.adapter import get_adapter
from django.http import HttpRequest, HttpResponse

SIGN_IN_PAGES = {"account_login"}


def identity_provider_origins(request: HttpRequest) -> list[str]:
    """The origins of the configured OpenID Connect providers (admin or environment)."""
    origins = set()
    for app in get_adapter().list_apps(request):
        parts = urlsplit((app.settings or {}).get("server_url", ""))
        if parts.scheme in ("https", "http") and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def sign_in_form_action(get_response: Callable[[HttpRequest], HttpResponse]):
    """Middleware, placed after django-csp's, which then builds the header with it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name in SIGN_IN_PAGES:
            origins = identity_provider_origins(request)
            if origins:
                update = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update
        return response

    return middleware
