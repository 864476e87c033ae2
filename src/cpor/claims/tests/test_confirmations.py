"""Withdrawing a claim and disassociating cannot be undone: the first POST only shows
what will happen (nothing is written), the button on that page posts again with
``confirm=1`` and acts. Works without JavaScript: plain forms only."""

import re

import pytest
from django.urls import reverse

from cpor.claims import services
from cpor.claims.models import Association, Claim, ClaimStatus
from cpor.testing.factories import submitted_claim

pytestmark = pytest.mark.django_db


def hidden_fields(body: str) -> dict[str, list[str]]:
    """The fields the confirmation page's form posts again."""
    (form,) = [chunk for chunk in body.split("</form>") if 'name="confirm"' in chunk]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        if name != "csrfmiddlewaretoken":
            fields.setdefault(name, []).append(value)
    return fields


@pytest.fixture
def signed_in(client, partner):
    client.force_login(partner)
    return client


@pytest.mark.parametrize(
    ("language", "title", "button"),
    [
        ("en", "Withdraw the claim", "Yes, withdraw the claim"),
        ("pt-pt", "Retirar a reclamação", "Sim, retirar a reclamação"),
    ],
)
def test_withdrawing_asks_first_and_writes_nothing_until_confirmed(
    signed_in, partner, language, title, button
):
    partner.language = language
    partner.save(update_fields=["language"])
    claim = submitted_claim(partner)
    events = claim.events.count()
    url = reverse("claims:withdraw", args=[claim.pk])

    response = signed_in.post(url, {"message": "Filed twice"})
    assert response.status_code == 200
    body = response.content.decode()
    assert title in body and claim.name in body and "Filed twice" in body
    assert button in body
    assert reverse("claims:detail", args=[claim.pk]) in body  # the way back
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED and claim.events.count() == events

    fields = hidden_fields(body)
    assert fields == {"message": ["Filed twice"], "confirm": ["1"]}
    response = signed_in.post(url, {key: value[0] for key, value in fields.items()})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
    assert claim.events.get(action="withdraw").message == "Filed twice"


def test_withdrawing_a_claim_no_longer_open_says_so_without_asking(signed_in, partner):
    claim = submitted_claim(partner)
    services.claim_withdraw(actor=partner, claim=claim, message="")
    response = signed_in.post(reverse("claims:withdraw", args=[claim.pk]), follow=True)
    assert "Yes, withdraw the claim" not in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.WITHDRAWN


@pytest.mark.parametrize(
    ("language", "title", "button"),
    [
        ("en", "Disassociate from", "Yes, disassociate"),
        ("pt-pt", "Desassociar de", "Sim, desassociar"),
    ],
)
def test_disassociating_asks_first_and_writes_nothing_until_confirmed(
    signed_in, partner, reviewer, language, title, button
):
    partner.language = language
    partner.save(update_fields=["language"])
    claim = submitted_claim(partner)
    services.claim_approve(actor=reviewer, claim=claim)
    association = Association.objects.get()
    url = reverse("claims:association_withdraw", args=[claim.pk, association.pk])

    response = signed_in.post(url, {"reason": "Contract ended"})
    assert response.status_code == 200
    body = response.content.decode()
    assert title in body and button in body and "Contract ended" in body
    assert str(association.product) in body
    association.refresh_from_db()
    assert association.is_held

    fields = hidden_fields(body)
    assert fields == {"reason": ["Contract ended"], "confirm": ["1"]}
    signed_in.post(url, {key: value[0] for key, value in fields.items()})
    association.refresh_from_db()
    assert not association.is_held and association.end_message == "Contract ended"


def test_disassociating_without_a_reason_refuses_before_asking(signed_in, partner, reviewer):
    claim = submitted_claim(partner)
    services.claim_approve(actor=reviewer, claim=claim)
    association = Association.objects.get()
    url = reverse("claims:association_withdraw", args=[claim.pk, association.pk])
    response = signed_in.post(url, {"reason": "  "}, follow=True)
    assert "Yes, disassociate" not in response.content.decode()
    assert Association.objects.get().is_held
