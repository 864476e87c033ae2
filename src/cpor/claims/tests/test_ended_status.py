"""An approved claim whose associations all ended says how they ended ("Approved ·
declined by the customer") on its page, in the list and on the customer's decline page,
and offers no action that no longer makes sense (newer PoE protects nothing any more)."""

import re

import pytest
from django.urls import reverse

from cpor.claims import services
from cpor.claims.models import Claim, EndReason
from cpor.claims.status_display import claim_status_label, mark_ended_approvals
from cpor.consent.tests.helpers import decline_url_for
from cpor.testing.factories import operator_user, submitted_claim

pytestmark = pytest.mark.django_db


def badge(body: str) -> str:
    """The claim's status badge in the page heading."""
    heading = re.search(r"<h1\b.*?</h1>", body, re.DOTALL).group(0)
    return re.sub(r"<[^>]+>", "", re.search(r'<span class="badge.*?</span>', heading).group(0))


@pytest.fixture
def approved(partner, tenant):
    claim = submitted_claim(partner, tenant)
    services.claim_approve(actor=operator_user(), claim=claim)
    return claim


@pytest.fixture
def signed_in(client, partner):
    client.force_login(partner)
    return client


def test_after_the_customer_declines_the_claim_page_says_so_and_offers_no_newer_poe(
    signed_in, approved
):
    url = reverse("claims:detail", args=[approved.pk])
    body = signed_in.get(url).content.decode()
    assert badge(body) == "Approved" and "Add newer PoE" in body

    services.association_decline(association=approved.associations.get(), actor_label="customer")
    body = signed_in.get(url).content.decode()
    assert badge(body) == "Approved · declined by the customer"
    assert "Add newer PoE" not in body and "Upload PoE" not in body
    assert "Disassociate" not in body


def test_the_claim_page_says_it_in_portuguese(signed_in, partner, approved):
    partner.language = "pt-pt"
    partner.save(update_fields=["language"])
    services.association_decline(association=approved.associations.get(), actor_label="customer")
    body = signed_in.get(reverse("claims:detail", args=[approved.pk])).content.decode()
    assert badge(body) == "Aprovada · recusada pelo cliente"


def test_while_one_unit_is_still_held_the_claim_is_plainly_approved(signed_in, partner, tenant):
    claim = submitted_claim(partner, tenant, products=["teams", "intune"])
    services.claim_approve(actor=operator_user(), claim=claim)
    services.association_decline(association=claim.associations.first(), actor_label="customer")
    body = signed_in.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert badge(body) == "Approved" and "Add newer PoE" in body


def test_the_list_shows_the_ended_approval(signed_in, approved):
    services.association_withdraw(
        actor=approved.created_by, association=approved.associations.get(), reason="Moved on"
    )
    body = signed_in.get(reverse("claims:list")).content.decode()
    row = re.search(rf"<tr>\s*<th[^>]*><a [^>]*>{re.escape(approved.name)}</a>.*?</tr>", body, re.S)
    assert "Approved · disassociated" in row.group(0)


def test_the_customers_decline_page_shows_the_ended_approval(client, approved):
    url = decline_url_for(approved)
    services.association_decline(association=approved.associations.get(), actor_label="customer")
    body = client.get(url).content.decode()
    assert "Approved · declined by the customer" in body


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        (EndReason.DECLINED_BY_CUSTOMER, "Approved · declined by the customer"),
        (EndReason.SUPERSEDED, "Approved · superseded by another partner"),
        (EndReason.WITHDRAWN, "Approved · disassociated"),
        (EndReason.EXPIRED, "Approved · subscription ended"),
        (EndReason.REVOKED, "Approved · revoked by the program"),
    ],
)
def test_each_way_an_approval_ends_has_its_label(reason, label):
    assert claim_status_label("approved", reason) == label
    assert claim_status_label("approved", "") == "Approved"


def test_one_query_marks_a_whole_page_of_claims(
    approved, partner, tenant, django_assert_num_queries
):
    held = submitted_claim(partner, tenant, products=["intune"])
    services.claim_approve(actor=operator_user(), claim=held)
    services.association_revoke(
        actor=operator_user("program_admin"),
        association=approved.associations.get(),
        reason="Fraud",
    )
    claims = list(Claim.objects.filter(pk__in=[approved.pk, held.pk]).order_by("pk"))
    with django_assert_num_queries(1):
        mark_ended_approvals(claims)
    assert [claim.ended_reason for claim in claims] == [EndReason.REVOKED, ""]
