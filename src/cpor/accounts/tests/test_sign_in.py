"""One way to sign in: allauth's login, with its second factor and its rate limits.

Every URL of the project is posted a valid e-mail and password (as form fields, as JSON
and as HTTP Basic credentials); only ``account_login`` may accept them, and for a user
with TOTP not even it signs in without the code. The admin's own login form is gone: it
sends people to allauth's, so a lock-out there holds at the admin too.
"""

import base64
import json
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from cpor.accounts.models import OperatorRole
from cpor.api.models import ApiToken
from cpor.testing.factories import PASSWORD, UserFactory
from cpor.web.tests.test_accounts import totp_code

pytestmark = pytest.mark.django_db

# What a URL parameter becomes in the probe, by the route converter that reads it.
CONVERTER_SAMPLES = {
    "int": "1",
    "str": "x",
    "path": "1",
    "slug": "x",
    "uuid": "11111111-1111-1111-1111-111111111111",
}
# Samples for the named groups of regex routes, the first one the group accepts is used.
REGEX_SAMPLES = ("1", "accounts", "x", "abc-def")
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>([^()]*)\)")
ROUTE_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _route_sample(route: str) -> str:
    return ROUTE_PARAMETER.sub(lambda m: CONVERTER_SAMPLES[m.group(1) or "str"], route)


def _regex_sample(regex: str) -> str:
    def group(match: re.Match) -> str:
        body = match.group(2)
        return next(s for s in REGEX_SAMPLES if re.fullmatch(body, s))

    sample = NAMED_GROUP.sub(group, regex.lstrip("^").rstrip("$"))
    sample = sample.replace(r"[\s\S]*", "x").replace(".*", "x").replace("\\", "")
    assert not re.search(r"[()\[\]*+?|^$]", sample), f"teach the probe this route: {regex}"
    return sample


def every_url() -> list[tuple[str, str]]:
    """(path, route) for each URL pattern of the project, with sample parameters."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            text = str(pattern.pattern)
            sample = (
                _route_sample(text)
                if type(pattern.pattern).__name__ == "RoutePattern"
                else _regex_sample(text)
            )
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + sample)
            elif isinstance(pattern, URLPattern):
                found.append((prefix + sample, pattern))

    walk(get_resolver().url_patterns, "/")
    urls = []
    for path, pattern in found:
        # The sample must reach this very pattern, not one listed before it.
        assert resolve(path).func == pattern.callback, (path, str(pattern.pattern))
        urls.append((path, str(pattern.pattern)))
    return urls


def _credentials(user) -> dict[str, str]:
    return {
        "login": user.email,
        "email": user.email,
        "username": user.username,
        "password": PASSWORD,
    }


def _basic(user) -> str:
    return "Basic " + base64.b64encode(f"{user.email}:{PASSWORD}".encode()).decode()


def signed_in_at(client, user) -> list[str]:
    """The URLs at which posting ``user``'s password yields a signed-in request."""
    accepted = []
    for path, _route in every_url():
        for kwargs in (
            {"data": _credentials(user)},
            {"data": json.dumps(_credentials(user)), "content_type": "application/json"},
        ):
            cache.clear()  # the rate limits must not be what stops a probe
            client.logout()
            response = client.post(path, headers={"authorization": _basic(user)}, **kwargs)
            request = getattr(response, "wsgi_request", None)
            if "_auth_user_id" in client.session or (
                request is not None and request.user.is_authenticated
            ):
                accepted.append(path)
    return sorted(set(accepted))


@pytest.fixture
def program_admin_with_totp():
    user = UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True, second_factor=False)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    user.totp_secret = secret
    return user


def test_the_probe_covers_admin_api_and_sign_in_urls():
    routes = {path for path, _route in every_url()}
    assert {"/admin/login/", "/accounts/login/", "/api/tokens/", "/api/v1/claims/"} <= routes
    assert len(routes) > 200


def test_no_url_signs_in_a_totp_user_with_the_password_alone(client, program_admin_with_totp):
    assert signed_in_at(client, program_admin_with_totp) == []
    assert not ApiToken.objects.exists()


def test_only_allauths_login_accepts_a_password(client):
    user = UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True, second_factor=False)
    assert signed_in_at(client, user) == ["/accounts/login/"]
    assert not ApiToken.objects.exists()


def test_admin_login_sends_to_allauths_login_with_next(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response.url)
    assert response.status_code == 302
    assert response.url == reverse("account_login") + "?next=/admin/"


def test_admin_login_refuses_posted_credentials(client, program_admin_with_totp):
    response = client.post(
        reverse("admin:login"),
        {"username": program_admin_with_totp.username, "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_program_admin_reaches_the_admin_through_the_second_factor(client, program_admin_with_totp):
    user = program_admin_with_totp
    response = client.post(
        reverse("account_login") + "?next=/admin/", {"login": user.email, "password": PASSWORD}
    )
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user.totp_secret)})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    # Signed in, the admin's login page only sends back to the admin.
    assert client.get(reverse("admin:login")).url == "/admin/"


def test_signed_in_user_without_admin_rights_gets_403_not_a_sign_in_loop(client):
    client.force_login(UserFactory())
    assert client.get(reverse("admin:login") + "?next=/admin/").status_code == 403


def test_account_locked_at_allauths_login_is_locked_at_the_admin_too(client):
    user = UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True, second_factor=False)
    cache.clear()
    for _attempt in range(6):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    for url in (reverse("admin:login"), reverse("account_login")):
        client.post(url, {"login": user.email, "username": user.username, "password": PASSWORD})
        assert "_auth_user_id" not in client.session, url
    assert client.get("/admin/").status_code == 302
