"""A partner's own claims do not reveal a tenant's name without a relationship: a
pending claim is not one. Everywhere a partner reads claims (the list, the claim page,
the exports, the API) shows the tenant ID and "Customer not yet confirmed" instead;
program staff and partners with a relationship see the name."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from cpor.claims import services
from cpor.claims.selectors import claim_list_page
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import (
    add_poe,
    claim_input,
    customer_tenant,
    operator_user,
    partner_user,
)
from cpor.testing.organisation import grant_relationship, tenants_asked

pytestmark = pytest.mark.django_db

SECRET = "Secretive Holdings SA"


@pytest.fixture
def partner():
    return partner_user(PartnerRoleName.INCENTIVES_ADMIN)


@pytest.fixture
def claim(partner):
    tenant = customer_tenant()
    tenant.name = SECRET
    tenant.save()
    data = claim_input(partner, tenant, name="Teams rollout")
    claim = services.claim_create(actor=partner, data=data)
    add_poe(partner, claim)
    return services.claim_submit(actor=partner, claim=claim, confirmed=True)


def _partner_views(client, api, claim) -> dict[str, str]:
    return {
        "list": client.get(reverse("claims:list")).content.decode(),
        "detail": client.get(reverse("claims:detail", args=[claim.pk])).content.decode(),
        "export": b"".join(client.get(reverse("claims:export")).streaming_content).decode(),
        "api list": api.get("/api/v1/claims/").content.decode(),
        "api detail": api.get(f"/api/v1/claims/{claim.pk}/").content.decode(),
        "api export": b"".join(api.get("/api/v1/claims/export/").streaming_content).decode(),
    }


def test_a_pending_claim_does_not_show_the_partner_the_tenants_name(client, partner, claim):
    client.force_login(partner)
    api = APIClient()
    api.force_authenticate(partner)

    pages = _partner_views(client, api, claim)

    for where, body in pages.items():
        assert SECRET not in body, where
        assert str(claim.tenant.tenant_id) in body, where
    for where in ("list", "detail", "export"):
        assert "Customer not yet confirmed" in pages[where], where
    assert api.get(f"/api/v1/claims/{claim.pk}/").json()["tenant_name"] is None
    assert api.get("/api/v1/claims/").json()["results"][0]["tenant_name"] is None


def test_the_mask_is_translated(client, partner, claim):
    partner.language = "pt-pt"
    partner.save()
    client.force_login(partner)
    body = client.get(reverse("claims:list")).content.decode()
    assert "Cliente ainda não confirmado" in body and SECRET not in body


def test_a_relationship_shows_the_name_again(client, partner, claim):
    grant_relationship(partner.partner_membership.organisation, claim.tenant)
    client.force_login(partner)
    api = APIClient()
    api.force_authenticate(partner)

    pages = _partner_views(client, api, claim)

    for where, body in pages.items():
        assert SECRET in body, where
    assert api.get(f"/api/v1/claims/{claim.pk}/").json()["tenant_name"] == SECRET


def test_program_staff_see_the_name(claim):
    api = APIClient()
    api.force_authenticate(operator_user())
    assert api.get(f"/api/v1/claims/{claim.pk}/").json()["tenant_name"] == SECRET
    assert api.get("/api/v1/claims/").json()["results"][0]["tenant_name"] == SECRET
    queue = api.get("/api/v1/review/queue/").json()["results"]
    assert [item["tenant_name"] for item in queue] == [SECRET]


def test_sorting_by_customer_follows_what_the_partner_is_shown(client, partner):
    """The hidden names must not leak through the order: by customer, a partner's list
    sorts unconfirmed customers by the tenant ID it shows, and named ones by name."""
    shown = {}
    for name, tenant_id, related in (
        ("Aardvark Hidden", "f0000000-0000-4000-8000-000000000001", False),
        ("Middle Named", "50000000-0000-4000-8000-000000000002", True),
        ("Zebra Hidden", "00000000-0000-4000-8000-000000000003", False),
    ):
        tenant = customer_tenant()
        tenant.name, tenant.tenant_id = name, tenant_id
        tenant.save()
        if related:
            grant_relationship(partner.partner_membership.organisation, tenant)
        claim = services.claim_create(
            actor=partner, data=claim_input(partner, tenant, name=f"Claim for {name}")
        )
        shown[claim.name] = name if related else tenant_id
    client.force_login(partner)

    orders = {}
    for sort in ("tenant", "-tenant"):
        body = client.get(reverse("claims:list"), {"sort": sort}).content.decode()
        orders[sort] = sorted(shown, key=body.index)
        # The export sorts the same way.
        export = b"".join(
            client.get(reverse("claims:export"), {"sort": sort}).streaming_content
        ).decode()
        assert sorted(shown, key=export.index) == orders[sort], sort

    by_shown = sorted(shown, key=lambda claim: shown[claim])
    assert orders["tenant"] == by_shown  # 0000…, "Middle Named", f000…
    assert orders["-tenant"] == by_shown[::-1]
    # Page by page (one claim a page, through the cursor) it is the same order.
    cursor, paged = None, []
    for _ in shown:
        page = claim_list_page(actor=partner, sort="tenant", cursor=cursor, size=1)
        paged += [row.name for row in page.rows]
        cursor = page.next_cursor
    assert paged == by_shown and cursor is None


def test_the_list_tests_the_relationship_for_its_own_rows_only(client, partner, claim):
    """At a million claims the relationship test as a column of the list query made
    PostgreSQL hash every association of the organisation for each page (96 ms instead
    of 17): the page asks it once, for the tenants of the rows it shows."""
    grant_relationship(partner.partner_membership.organisation, customer_tenant())
    client.force_login(partner)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("claims:list")).content.decode()

    asking = [
        q["sql"] for q in queries.captured_queries if "customers_partnerinvitation" in q["sql"]
    ]
    assert len(asking) == 1
    # Asked of the page's tenants only (here the one claim's), not as a column of the list.
    assert asking[0].strip().startswith("SELECT tenant_id FROM claims_association")
    assert tenants_asked(asking[0]) == [[claim.tenant_id]] * 2
    assert SECRET not in body and "Customer not yet confirmed" in body
