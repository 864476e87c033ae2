"""A customer's decline cannot be undone: on /customer/ and behind the e-mailed link the
first POST only shows what will happen (nothing is written); the button on that page
posts again with ``confirm=1`` and declines. Nothing is chosen in advance."""

import re

import pytest

from cpor.claims import services
from cpor.claims.models import AssociationStatus, ClaimStatus, EndReason, LineStatus
from cpor.consent.models import CustomerAdmin
from cpor.consent.tests.helpers import decline_url_for
from cpor.testing.factories import UserFactory, operator_user, partner_user, submitted_claim

pytestmark = pytest.mark.django_db


def hidden_fields(body: str) -> dict[str, list[str]]:
    """The fields the confirmation page's form posts again."""
    (form,) = [chunk for chunk in body.split("</form>") if 'name="confirm"' in chunk]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        if name != "csrfmiddlewaretoken":
            fields.setdefault(name, []).append(value)
    return fields


def writes(claim) -> tuple:
    claim.refresh_from_db()
    return (
        claim.status,
        sorted(claim.lines.values_list("status", flat=True)),
        sorted(claim.associations.values_list("status", "end_reason")),
        claim.events.count(),
    )


ENGLISH = {
    "title": "Decline",
    "ends": "is not the partner of record",
    "not_approved": "will not be approved",
    "undone": "This cannot be undone",
    "button": "Yes, decline",
}
PORTUGUESE = {
    "title": "Recusar",
    "ends": "não é o parceiro de registo",
    "not_approved": "não será aprovado",
    "undone": "Não é possível anular",
    "button": "Sim, recusar",
}


@pytest.fixture
def approved(partner, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_approve(actor=operator_user(), claim=claim)
    return claim


@pytest.fixture
def admin(client, tenant):
    user = CustomerAdmin.objects.create(user=UserFactory(), tenant=tenant).user
    client.force_login(user)
    return user


@pytest.mark.parametrize(("language", "text"), [("en", ENGLISH), ("pt-pt", PORTUGUESE)])
def test_customer_admin_confirms_before_an_association_ends(
    client, admin, approved, language, text
):
    admin.language = language
    admin.save(update_fields=["language"])
    association = approved.associations.get()
    url = f"/customer/associations/{association.pk}/decline/"
    before = writes(approved)

    response = client.post(url, {"reason": "Not our partner"})
    assert response.status_code == 200
    body = response.content.decode()
    for key in ("title", "ends", "undone", "button"):
        assert text[key] in body, key
    assert approved.organisation.name in body and "Not our partner" in body
    assert writes(approved) == before

    fields = hidden_fields(body)
    assert fields == {"reason": ["Not our partner"], "confirm": ["1"]}
    assert client.post(url, {k: v[0] for k, v in fields.items()}).status_code == 302
    association.refresh_from_db()
    assert association.status == AssociationStatus.ENDED
    assert association.end_reason == EndReason.DECLINED_BY_CUSTOMER


def test_customer_admin_confirms_before_a_request_is_declined(client, admin, tenant):
    claim = submitted_claim(partner_user(), tenant, products=["teams", "intune"])
    url = f"/customer/requests/{claim.pk}/decline/"
    before = writes(claim)
    body = client.post(url, {"reason": ""}).content.decode()
    assert ENGLISH["not_approved"] in body and ENGLISH["button"] in body
    assert "Microsoft Teams" in body or "Teams" in body
    assert writes(claim) == before
    client.post(url, {k: v[0] for k, v in hidden_fields(body).items()})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DECLINED


def test_the_link_page_chooses_nothing_in_advance(client, partner, tenant):
    claim = submitted_claim(partner, tenant, products=["teams", "intune"])
    body = client.get(decline_url_for(claim)).content.decode()
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*name="units"[^>]*>', body)
    assert len(boxes) == 2
    assert not any("checked" in box for box in boxes)


@pytest.mark.parametrize(
    ("language", "text"), [("en", ENGLISH), ("pt-PT", PORTUGUESE)], ids=["en", "pt"]
)
def test_the_link_page_confirms_before_declining(client, partner, tenant, language, text):
    claim = submitted_claim(partner, tenant, products=["teams", "intune"])
    url = decline_url_for(claim)
    first, second = claim.lines.order_by("id")
    before = writes(claim)

    response = client.post(
        url, {"units": [first.pk], "reason": "Never hired"}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "same-origin"  # the token is in the URL
    body = response.content.decode()
    for key in ("title", "not_approved", "undone", "button"):
        assert text[key] in body, key
    assert str(first) in body and str(second) not in body
    assert writes(claim) == before

    fields = hidden_fields(body)
    assert fields == {"units": [str(first.pk)], "reason": ["Never hired"], "confirm": ["1"]}
    response = client.post(url, {"units": [first.pk], "reason": "Never hired", "confirm": "1"})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (LineStatus.DECLINED, LineStatus.PENDING)


def test_the_link_page_asks_to_end_an_official_association(client, approved):
    url = decline_url_for(approved)
    association = approved.associations.get()
    body = client.post(url, {"units": [association.line_id]}).content.decode()
    assert ENGLISH["ends"] in body and approved.organisation.name in body
    assert approved.associations.get().is_held


def test_choosing_nothing_still_says_so_without_asking(client, partner, tenant):
    claim = submitted_claim(partner, tenant)
    response = client.post(decline_url_for(claim), {"reason": "x"})
    assert response.status_code == 400
    assert "Choose what to decline." in response.content.decode()
    assert ENGLISH["button"] not in response.content.decode()
