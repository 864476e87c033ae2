"""The provider's own pages: discovery, sign-in, and the control endpoints the tests use."""

import json
import os

from django.contrib.auth import authenticate, get_user_model, login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import Application

from cpor.testing.idp import state


def discovery(request: HttpRequest) -> JsonResponse:
    base = os.environ["IDP_BASE_URL"]
    multi = os.environ.get("IDP_MULTI_TENANT") == "1"
    return JsonResponse(
        {
            "issuer": f"{base}/{{tenantid}}/v2.0" if multi else base,
            "authorization_endpoint": f"{base}/o/authorize/",
            "token_endpoint": f"{base}/o/token/",
            "userinfo_endpoint": f"{base}/o/userinfo/",
            "jwks_uri": f"{base}/o/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "profile", "email"],
        }
    )


@csrf_exempt
def sign_in(request: HttpRequest) -> HttpResponse:
    """A bare form: username and password. Disabled people are refused here, as an IdP
    refuses an account it disabled or deleted."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    error = ""
    if request.method == "POST":
        user = authenticate(
            request, username=request.POST.get("username"), password=request.POST.get("password")
        )
        if user is not None:
            login(request, user)
            if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                return HttpResponseRedirect(next_url)
            return HttpResponseRedirect("/")
        error = "<p id='error'>Wrong username or password, or the account is disabled.</p>"
    return HttpResponse(
        f"<!doctype html><title>Test IdP</title>{error}<form method='post'>"
        f"<input type='hidden' name='next' value='{escape(next_url)}'>"
        "<label>Username <input name='username'></label>"
        "<label>Password <input name='password' type='password'></label>"
        "<button type='submit'>Sign in</button></form>"
    )


def _authorised(request: HttpRequest) -> bool:
    return request.headers.get("X-Control-Token") == os.environ["IDP_CONTROL_TOKEN"]


@csrf_exempt
def control(request: HttpRequest, action: str) -> JsonResponse:
    """POST JSON. ``client``: register CPOR (client_id, secret, redirect_uri); ``person``:
    add or change someone (username, password, claims, active); ``fault``: the mode of
    the next tokens."""
    if request.method != "POST" or not _authorised(request):
        return JsonResponse({"error": "forbidden"}, status=403)
    body = json.loads(request.body or b"{}")
    if action == "client":
        Application.objects.update_or_create(
            client_id=body["client_id"],
            defaults={
                "client_secret": body["secret"],
                "redirect_uris": body["redirect_uri"],
                "client_type": Application.CLIENT_CONFIDENTIAL,
                "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
                "algorithm": Application.RS256_ALGORITHM,
                "skip_authorization": True,
                "name": "CPOR",
            },
        )
    elif action == "person":
        user, _created = get_user_model().objects.get_or_create(username=body["username"])
        if "password" in body:
            user.set_password(body["password"])
        user.is_active = body.get("active", True)
        user.save()
        with state.lock:
            state.PROFILES[user.username] = body.get(
                "claims", state.PROFILES.get(user.username, {})
            )
    elif action == "fault":
        with state.lock:
            state.FAULT["mode"] = body.get("mode", "")
    else:
        return JsonResponse({"error": "unknown action"}, status=404)
    return JsonResponse({"ok": True})
