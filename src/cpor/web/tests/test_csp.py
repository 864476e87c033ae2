"""Content-Security-Policy (issue 11, defect 6): every page carries a strict policy, with a
fresh nonce where a page needs one; no page or template has an inline script without the
nonce, an inline event handler or a style attribute, so a new one fails here."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialApp
from django.urls import reverse
from rest_framework.test import APIClient

from cpor.api.services import api_token_create
from cpor.claims import services
from cpor.claims.models import PoEType
from cpor.notifications.models import OutboxMessage
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import (
    claim_input,
    customer_tenant,
    docx_file,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


class InlineCode(HTMLParser):
    """The inline scripts, <style> elements, style attributes and event handlers of a page."""

    def __init__(self):
        super().__init__()
        self.scripts, self.styles, self.style_attributes, self.handlers = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        data_block = attributes.get("type") in {"application/json", "application/ld+json"}
        if tag == "script" and "src" not in attributes and not data_block:
            self.scripts.append(attributes.get("nonce"))
        if tag == "style":
            self.styles.append(attributes.get("nonce"))
        if "style" in attributes:
            self.style_attributes.append(f"<{tag} style={attributes['style']!r}>")
        self.handlers += [f"<{tag} {name}=...>" for name in attributes if name.startswith("on")]


def inline_code(response) -> InlineCode:
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser


def assert_strict(response):
    """The policy allows scripts from this site and by nonce only, nothing inline."""
    directives = policy(response)
    scripts = directives["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert [s for s in scripts if s not in ("'self'",) and not s.startswith("'nonce-")] == []
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"] or response.wsgi_request.path.startswith(
        "/api/docs/redoc/"
    )
    nonces = [s[len("'nonce-") : -1] for s in scripts if s.startswith("'nonce-")]
    code = inline_code(response)
    # Every inline script carries this response's nonce; none is allowed otherwise.
    assert all(nonce in nonces for nonce in code.scripts), code.scripts
    assert code.handlers == []
    styles = directives.get("style-src", directives["default-src"])
    assert all(nonce in nonces for nonce in code.styles) or "'unsafe-inline'" in styles
    # Style attributes only where the page's policy says so (the mail log's e-mail preview).
    if "'unsafe-inline'" not in directives.get("style-src-attr", []):
        assert code.style_attributes == []
    return directives


@pytest.fixture
def pages(client, admin_user, tmp_path):
    """The main pages, each with the client signed in as someone who may read it."""
    partner = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    draft = services.claim_create(actor=partner, data=claim_input(partner, customer_tenant()))
    submitted = submitted_claim(actor=partner)
    reviewer = operator_user()
    return {
        "home": (partner, "/"),
        "claim list": (partner, reverse("claims:list")),
        "wizard": (partner, reverse("claims:new")),
        "draft claim (drop zone, delete)": (partner, reverse("claims:detail", args=[draft.pk])),
        "usage": (partner, "/usage/"),
        "review queue": (reviewer, reverse("review:queue")),
        "review screen": (reviewer, reverse("review:claim", args=[submitted.pk])),
        "admin": (admin_user, "/admin/"),
        "admin change form": (admin_user, f"/admin/claims/claim/{submitted.pk}/change/"),
        "swagger ui": (None, "/api/docs/"),
        "redoc": (None, "/api/docs/redoc/"),
        "sign-in": (None, "/accounts/login/"),
    }


def test_every_main_page_has_a_strict_policy_and_no_unsanctioned_inline_code(client, pages):
    for name, (user, path) in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(path, follow=True)
        assert response.status_code == 200, (name, response.redirect_chain)
        assert "text/html" in response["Content-Type"], name
        try:
            assert_strict(response)
        except AssertionError as error:
            raise AssertionError(f"{name} ({path}): {error}") from error


def test_a_page_with_an_inline_script_gets_a_fresh_nonce_each_time(client):
    first, second = (policy(client.get("/api/docs/"))["script-src"] for _ in range(2))
    nonce = [s for s in first if s.startswith("'nonce-")]
    assert len(nonce) == 1 and nonce[0] not in second
    body = client.get("/api/docs/")
    served = policy(body)["script-src"][1][len("'nonce-") : -1]
    assert f'<script nonce="{served}">' in body.content.decode()


def test_the_redoc_page_allows_inline_styles_but_not_inline_scripts(client):
    directives = policy(client.get("/api/docs/redoc/"))
    assert "'unsafe-inline'" in directives["style-src"]
    assert not any(s.startswith("'nonce-") for s in directives["style-src"])
    assert "'unsafe-inline'" not in directives["script-src"]


def test_the_mail_log_preview_allows_style_attributes_only(client, admin_user):
    message = OutboxMessage.objects.create(
        kind="email",
        dedupe_key="csp-test",
        recipient="ana@example.com",
        subject="Hello",
        body_text="Hello",
        body_html='<p style="color: red">Hello</p>',
    )
    client.force_login(admin_user)
    response = client.get(reverse("notifications:message_detail", args=[message.pk]))
    directives = assert_strict(response)
    assert directives["style-src-attr"] == ["'unsafe-inline'"]
    assert "'unsafe-inline'" not in directives["style-src"]


# Templates of e-mails are not pages: mail clients need their inline styles.
EMAIL_TEMPLATES = re.compile(r"/templates/[^/]+/email/")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)(?![^>]*application/json)")
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\sstyle=")
INLINE_STYLE = re.compile(r"<style(?![^>]*\bnonce=)")
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+=")
# ReDoc's bundle needs inline styles anyway (its policy allows them, api/urls.py).
STYLE_ELEMENT_ALLOWED = {"api/templates/api/docs_redoc.html"}


def test_no_template_has_inline_code_the_policy_refuses():
    found = []
    # Django's templates and the Jinja2 row templates (settings.TEMPLATES) alike.
    templates = [*SRC.glob("*/templates/**/*.html"), *SRC.glob("*/jinja2/**/*.html")]
    assert any("/jinja2/" in str(template) for template in templates)
    for template in sorted(templates):
        name = str(template.relative_to(SRC))
        if EMAIL_TEMPLATES.search(str(template)):
            continue
        text = template.read_text()
        for rule, pattern in [
            ("inline script without the nonce", INLINE_SCRIPT),
            ("style attribute", STYLE_ATTRIBUTE),
            ("event handler attribute", EVENT_HANDLER),
            ("<style> without the nonce", INLINE_STYLE),
        ]:
            if rule.startswith("<style>") and name in STYLE_ELEMENT_ALLOWED:
                continue
            found += [f"{name}: {rule}" for _ in pattern.finditer(text)]
    assert found == []


def test_api_poe_download_is_not_cached_and_sandboxed_like_the_web_download():
    partner = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    claim = services.claim_create(actor=partner, data=claim_input(partner, customer_tenant()))
    proof = services.poe_add(
        actor=partner,
        claim=claim,
        file=docx_file(),
        poe_type=PoEType.STATEMENT_OF_WORK,
        signed_on=claim.created_at.date(),
        signatory="Ana Silva, CIO",
    )
    api = APIClient()
    _row, token = api_token_create(actor=partner, name="tests")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.get(f"/api/v1/claims/{claim.pk}/proofs/{proof.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_reviewers_pdf_preview_may_be_framed_by_the_review_page(client):
    claim = submitted_claim()
    reviewer = operator_user()
    client.force_login(reviewer)
    proof = claim.proofs.get()
    response = client.get(reverse("review:poe", args=[proof.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    # The site's frame-ancestors 'none' would leave the review screen's preview empty.
    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_sign_in_page_may_send_its_form_on_to_the_identity_providers(client):
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id="contoso",
        name="Contoso Entra ID",
        client_id="cpor",
        secret="secret",
        settings={"server_url": "https://login.contoso.example/tenant/v2.0"},
    )
    sign_in = policy(client.get("/accounts/login/"))
    # "Sign in with Contoso Entra ID" posts here, then is redirected to the provider.
    assert sign_in["form-action"] == ["'self'", "https://login.contoso.example"]
    assert policy(client.get("/api/docs/"))["form-action"] == ["'self'"]
