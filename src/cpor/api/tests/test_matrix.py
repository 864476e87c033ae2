"""The authorisation matrix: each role (a customer admin too), each endpoint, own and other
organisation.

Organisation A holds the partner admin, incentives admin and incentives user; the
"other partner" belongs to organisation B, which owns the same kinds of objects. Objects
another organisation owns must not exist for the caller (404), and lists and exports
never show them.
"""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from cpor.api.models import WebhookEndpoint
from cpor.claims import services
from cpor.claims.models import Association, Claim
from cpor.testing.factories import add_poe, claim_input, customer_tenant, pdf_file, submitted_claim

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "partner_admin",
    "incentives_admin",
    "incentives_user",
    "other_partner",
    "reviewer",
    "program_admin",
    "customer_admin",
)
A_MANAGERS = {"partner_admin", "incentives_admin"}
A_MEMBERS = A_MANAGERS | {"incentives_user"}
STAFF = {"reviewer", "program_admin"}


@pytest.fixture
def world(people):
    """For organisation A (own) and B (other): a draft with PoE, a submitted claim, and an
    approved claim with its association, each on units of its own tenant."""
    objects = {}
    for side, owner in (("own", people["incentives_admin"]), ("other", people["other_partner"])):
        tenant = customer_tenant()
        draft = services.claim_create(actor=owner, data=claim_input(owner, tenant))
        add_poe(owner, draft)
        submitted = submitted_claim(owner, tenant, products=["intune"])
        approved = submitted_claim(owner, tenant, products=["teams_phone"])
        services.claim_approve(actor=people["reviewer"], claim=approved)
        webhook = WebhookEndpoint.objects.create(
            organisation=owner.partner_membership.organisation,
            url="https://example.com/hook",
            secret="s",
            created_by=owner,
        )
        objects[side] = {
            "draft": draft,
            "submitted": submitted,
            "approved": approved,
            "association": Association.objects.get(claim=approved),
            "webhook": webhook,
        }
    return objects


def member_of_owner(role, side) -> bool:
    return (role in A_MEMBERS and side == "own") or (role == "other_partner" and side == "other")


def manager_of_owner(role, side) -> bool:
    return (role in A_MANAGERS and side == "own") or (role == "other_partner" and side == "other")


def expect_claim_read(role, side, status):
    if role == "anonymous":
        return 401
    if role in STAFF:
        return 404 if status == "draft" else 200
    return 200 if member_of_owner(role, side) else 404


def expect_partner_write(role, side, status, ok=200):
    """Partner actions (managers of the owning organisation only)."""
    visible = expect_claim_read(role, side, status)
    if visible != 200:
        return visible
    return ok if manager_of_owner(role, side) else 403


def expect_webhook(role, side, ok=200, managers_only=False):
    if role == "anonymous":
        return 401
    if not member_of_owner(role, side):
        return 404
    return ok if manager_of_owner(role, side) or not managers_only else 403


def expect_review(role, side, status, allowed=frozenset({"reviewer"}), ok=200):
    visible = expect_claim_read(role, side, status)
    if visible != 200:
        return visible
    return ok if role in allowed else 403


def poe_data():
    return {
        "file": pdf_file(),
        "poe_type": "statement_of_work",
        "signed_on": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
        "signatory": "Ana",
    }


# (name, method, path template, object, body, format, expectation(role, side))
CASES = [
    (
        "claim-get",
        "get",
        "/api/v1/claims/{id}/",
        "draft",
        None,
        "json",
        lambda r, s: expect_claim_read(r, s, "draft"),
    ),
    (
        "claim-get-submitted",
        "get",
        "/api/v1/claims/{id}/",
        "submitted",
        None,
        "json",
        lambda r, s: expect_claim_read(r, s, "submitted"),
    ),
    (
        "claim-history",
        "get",
        "/api/v1/claims/{id}/history/",
        "submitted",
        None,
        "json",
        lambda r, s: expect_claim_read(r, s, "submitted"),
    ),
    (
        "claim-proofs",
        "get",
        "/api/v1/claims/{id}/proofs/",
        "submitted",
        None,
        "json",
        lambda r, s: expect_claim_read(r, s, "submitted"),
    ),
    (
        "claim-checks",
        "get",
        "/api/v1/claims/{id}/checks/",
        "draft",
        None,
        "json",
        lambda r, s: expect_claim_read(r, s, "draft"),
    ),
    (
        "claim-patch",
        "patch",
        "/api/v1/claims/{id}/",
        "draft",
        {"name": "New"},
        "json",
        lambda r, s: expect_partner_write(r, s, "draft"),
    ),
    (
        "claim-delete",
        "delete",
        "/api/v1/claims/{id}/",
        "draft",
        None,
        "json",
        lambda r, s: expect_partner_write(r, s, "draft", ok=204),
    ),
    (
        "claim-submit",
        "post",
        "/api/v1/claims/{id}/submit/",
        "draft",
        {"confirmed": True},
        "json",
        lambda r, s: expect_partner_write(r, s, "draft"),
    ),
    (
        "claim-upload",
        "post",
        "/api/v1/claims/{id}/proofs/",
        "draft",
        poe_data,
        "multipart",
        lambda r, s: expect_partner_write(r, s, "draft", ok=201),
    ),
    (
        "claim-withdraw",
        "post",
        "/api/v1/claims/{id}/withdraw/",
        "submitted",
        {},
        "json",
        lambda r, s: expect_partner_write(r, s, "submitted"),
    ),
    (
        "claim-start-review",
        "post",
        "/api/v1/claims/{id}/start-review/",
        "submitted",
        {},
        "json",
        lambda r, s: expect_review(r, s, "submitted"),
    ),
    (
        "claim-approve",
        "post",
        "/api/v1/claims/{id}/approve/",
        "submitted",
        {},
        "json",
        lambda r, s: expect_review(r, s, "submitted"),
    ),
    (
        "claim-reject",
        "post",
        "/api/v1/claims/{id}/reject/",
        "submitted",
        {"reason_code": "insufficient_poe"},
        "json",
        lambda r, s: expect_review(r, s, "submitted"),
    ),
    (
        "claim-request-info",
        "post",
        "/api/v1/claims/{id}/request-info/",
        "submitted",
        {"reason_code": "poe_missing", "message": "Sign it"},
        "json",
        lambda r, s: expect_review(r, s, "submitted"),
    ),
    (
        "claim-note",
        "post",
        "/api/v1/claims/{id}/notes/",
        "submitted",
        {"message": "n"},
        "json",
        lambda r, s: expect_review(r, s, "submitted", allowed=STAFF, ok=201),
    ),
    (
        "association-get",
        "get",
        "/api/v1/associations/{id}/",
        "association",
        None,
        "json",
        lambda r, s: expect_claim_read(r, s, "approved"),
    ),
    (
        "association-withdraw",
        "post",
        "/api/v1/associations/{id}/withdraw/",
        "association",
        {"reason": "Done"},
        "json",
        lambda r, s: expect_partner_write(r, s, "approved"),
    ),
    (
        "association-revoke",
        "post",
        "/api/v1/associations/{id}/revoke/",
        "association",
        {"reason": "Fraud"},
        "json",
        lambda r, s: expect_review(r, s, "approved", allowed={"program_admin"}),
    ),
    (
        "webhook-get",
        "get",
        "/api/v1/webhooks/{id}/",
        "webhook",
        None,
        "json",
        lambda r, s: expect_webhook(r, s),
    ),
    (
        "webhook-deliveries",
        "get",
        "/api/v1/webhooks/{id}/deliveries/",
        "webhook",
        None,
        "json",
        lambda r, s: expect_webhook(r, s),
    ),
    (
        "webhook-delete",
        "delete",
        "/api/v1/webhooks/{id}/",
        "webhook",
        None,
        "json",
        lambda r, s: expect_webhook(r, s, ok=204, managers_only=True),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_object_endpoints(clients, world, case):
    """Every role on the object of each side; each call is rolled back before the next."""
    name, method, template, key, body, fmt, expectation = case
    mismatches = []
    for role in ROLES:
        for side in ("own", "other"):
            target = world[side][key]
            expected = expectation(role, side)
            with transaction.atomic():
                data = body() if callable(body) else body
                response = getattr(clients[role], method)(
                    template.format(id=target.pk), data, format=fmt
                )
                if response.status_code != expected:
                    mismatches.append((role, side, response.status_code, expected))
                elif expected >= 400:
                    assert set(response.json()) >= {"code", "message", "field"}
                    if hasattr(target, "status"):
                        # Refused writes change nothing.
                        stored = type(target).objects.get(pk=target.pk)
                        assert stored.status == target.status, (role, side)
                transaction.set_rollback(True)
    assert not mismatches, (name, mismatches)


def test_lists_and_exports_never_leak(clients, world):
    for role in ROLES:
        check_lists(clients[role], world, role)


def check_lists(client, world, role):
    if role == "anonymous":
        for path in ("/api/v1/claims/", "/api/v1/associations/", "/api/v1/claims/export/"):
            assert client.get(path).status_code == 401
        return
    own_org = world["own"]["draft"].organisation_id
    other_org = world["other"]["draft"].organisation_id
    allowed = {
        "other_partner": {other_org},
        "reviewer": {own_org, other_org},
        "program_admin": {own_org, other_org},
        "customer_admin": set(),
    }.get(role, {own_org})
    claims = client.get("/api/v1/claims/", {"page_size": 100}).json()["results"]
    orgs = set(
        Claim.objects.filter(pk__in=[c["id"] for c in claims]).values_list(
            "organisation_id", flat=True
        )
    )
    assert orgs == allowed
    if role in STAFF:
        assert "draft" not in {c["status"] for c in claims}
    associations = client.get("/api/v1/associations/").json()["results"]
    assert (
        set(
            Association.objects.filter(pk__in=[a["id"] for a in associations]).values_list(
                "organisation_id", flat=True
            )
        )
        == allowed
    )
    export = b"".join(client.get("/api/v1/claims/export/").streaming_content).decode()
    exported = {int(line.split(",")[0]) for line in export.strip().splitlines()[1:]}
    assert exported == {c["id"] for c in claims}
    hooks = client.get("/api/v1/webhooks/").json()
    expected_hooks = {
        "other_partner": {world["other"]["webhook"].pk},
        "reviewer": set(),
        "program_admin": set(),
        "customer_admin": set(),
    }.get(role, {world["own"]["webhook"].pk})
    assert {h["id"] for h in hooks} == expected_hooks
    queue = client.get("/api/v1/review/queue/")
    assert queue.status_code == (200 if role in STAFF else 403)


@pytest.mark.parametrize("role", ROLES)
def test_creating_claims_and_webhooks(clients, customer, role):
    from cpor.api.tests.conftest import claim_body

    client = clients[role]
    user = client.user
    if user is not None and hasattr(user, "partner_membership"):
        body = claim_body(user, customer)
    else:
        body = {"role": "use_or_consume", "partner_id": "1234", "tenant_id": "x", "name": "n"}
    response = client.post("/api/v1/claims/", body, format="json")
    expected = {
        "anonymous": 401,
        "incentives_user": 403,
        "reviewer": 403,
        "program_admin": 403,
        "customer_admin": 403,
    }
    assert response.status_code == expected.get(role, 201), response.content
    hook = client.post("/api/v1/webhooks/", {"url": "https://example.com/h"}, format="json")
    assert hook.status_code == expected.get(role, 201), hook.content
