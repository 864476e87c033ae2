"""Sign-in through django-allauth: e-mail and password, optional TOTP, password reset,
no public sign-up; and the language each user is spoken to in."""

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from cpor.testing.factories import PASSWORD, partner_user

pytestmark = pytest.mark.django_db


def totp_code(secret: str, at: float | None = None, step: int = 30) -> str:
    """RFC 6238: HMAC-SHA1 over the 30-second counter, dynamically truncated to 6 digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int((at or time.time()) // step))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_user_with_totp_needs_the_code_to_sign_in(client):
    user = partner_user()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_user_without_totp_signs_in_with_the_password_alone(client):
    user = partner_user()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_password_reset_by_email_end_to_end(client):
    user = partner_user()
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and user.email in mail.outbox[0].to
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    response = client.get(link.group(1))
    form_url = response.url if response.status_code == 302 else link.group(1)
    new_password = "a-much-better-passphrase-2026"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302, response.content.decode()[:500]
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": new_password}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_there_is_no_public_sign_up(client):
    before = get_user_model().objects.count()
    client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert get_user_model().objects.count() == before
    assert "sign up" not in client.get(reverse("account_login")).content.decode().lower()


def test_language_follows_the_browser(client):
    response = client.get("/", headers={"accept-language": "pt-PT,pt;q=0.9"})
    assert response["Content-Language"] == "pt-pt"
    assert 'lang="pt-pt"' in response.content.decode()


def test_language_follows_the_users_setting_then_the_switcher(client):
    user = partner_user()
    user.language = "pt-pt"
    user.save()
    client.force_login(user)
    assert client.get("/", headers={"accept-language": "en"})["Content-Language"] == "pt-pt"
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert client.get("/")["Content-Language"] == "en"
    user.refresh_from_db()
    assert user.language == "en"  # remembered for other devices and e-mails


def test_switcher_refuses_an_unknown_language_and_keeps_the_setting(client):
    user = partner_user()
    user.language = "pt-pt"
    user.save()
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.language == "pt-pt"


def test_anonymous_switcher_only_sets_the_cookie(client):
    response = client.post(reverse("set_language"), {"language": "pt-pt", "next": "/"})
    assert response.status_code == 302
    assert client.get("/")["Content-Language"] == "pt-pt"


def test_portuguese_pages_are_translated(client):
    user = partner_user()
    client.force_login(user)
    body = client.get(reverse("claims:list"), headers={"accept-language": "pt-PT"}).content
    assert "Reclamações de clientes".encode() in body


@pytest.mark.parametrize(
    "name",
    ["mfa_index", "account_reauthenticate", "account_change_password", "account_email"],
)
def test_account_pages_render_in_the_site_layout(client, name):
    client.force_login(partner_user())
    response = client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="main"' in body and "bootstrap.min.css" in body


def test_password_reset_page_renders_in_the_site_layout(client):
    body = client.get(reverse("account_reset_password")).content.decode()
    assert 'id="main"' in body and 'name="email"' in body
