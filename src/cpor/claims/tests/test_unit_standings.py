"""The units step says, before the partner picks, whether the customer licenses each
workload or subscription and whether a partner already holds it: "your organisation" or
"another partner", never its name. A partner with no relationship with the customer sees
that only for what it picked or typed."""

import re

import pytest
from django.urls import reverse

from cpor.catalog.models import Product
from cpor.claims.unit_standings import Holder, subscription_standings, workload_standings
from cpor.testing.factories import SubscriptionFactory, active_associations, partner_user
from cpor.testing.organisation import grant_relationship

pytestmark = pytest.mark.django_db

LICENSED = "Licensed by the customer"
OTHER = "Held by another partner"
OURS = "Held by your organisation"


@pytest.fixture
def rival(tenant):
    """Another partner, named so that a leak would show, holding Intune at the tenant."""
    user = partner_user()
    organisation = user.partner_membership.organisation
    organisation.name = "Rival Consulting Lda"
    organisation.save()
    active_associations(user, tenant, products=["intune"])
    return organisation


@pytest.fixture
def licences(tenant):
    return [
        SubscriptionFactory(tenant=tenant, product=Product.objects.get(code=code))
        for code in ("teams", "intune")
    ]


def _units_step(client, partner, tenant, area="modern_work_security", role="use_or_consume"):
    url = client.get(reverse("claims:new")).url
    for data in (
        {"solution_area": area},
        {"role": role},
        {
            "name": "Rollout",
            "partner_id": partner.partner_membership.organisation.locations.first().partner_id,
            "tenant_id": str(tenant.tenant_id),
        },
    ):
        response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        url = response.url
    assert url.endswith("/units/")
    return url


def _standing_of(body: str, code: str) -> str:
    match = re.search(rf'id="standing-{code}">(.*?)</div>', body, re.S)
    return match.group(1) if match else ""


def test_a_related_partner_sees_licence_and_holder_of_every_workload(
    client, partner, tenant, rival, licences
):
    grant_relationship(partner.partner_membership.organisation, tenant)
    active_associations(partner, tenant, products=["teams"])
    client.force_login(partner)
    body = client.get(_units_step(client, partner, tenant)).content.decode()
    assert LICENSED in _standing_of(body, "teams") and OURS in _standing_of(body, "teams")
    assert LICENSED in _standing_of(body, "intune") and OTHER in _standing_of(body, "intune")
    assert "Not licensed by the customer" in _standing_of(body, "onedrive")
    assert rival.name not in body


def test_an_unrelated_partner_sees_the_standing_only_of_what_it_picked(
    client, partner, tenant, rival, licences
):
    client.force_login(partner)
    url = _units_step(client, partner, tenant)
    body = client.get(url).content.decode()
    assert LICENSED not in body and OTHER not in body  # nothing enumerated
    assert tenant.name not in body
    response = client.post(url, {"products": ["intune"], "check": "1"})
    assert response.status_code == 302 and response.url.startswith(url)
    body = client.get(url).content.decode()
    assert LICENSED in _standing_of(body, "intune") and OTHER in _standing_of(body, "intune")
    assert _standing_of(body, "teams") == ""  # not picked: not told
    assert 'value="intune"' in body and re.search(r'value="intune"[^>]*checked', body)
    assert rival.name not in body and tenant.name not in body


def test_typed_subscriptions_say_who_holds_them(client, partner, tenant):
    held = SubscriptionFactory(tenant=tenant)
    rival = partner_user()
    active_associations(
        rival, tenant, role="build_intent_advisor", products=(), subscriptions=[held]
    )
    client.force_login(partner)
    url = _units_step(
        client, partner, tenant, area="business_applications", role="build_intent_advisor"
    )
    client.post(url, {"subscription_ids": str(held.subscription_id), "check": "1"})
    body = client.get(url).content.decode()
    assert str(held.subscription_id) in body and OTHER in body
    assert rival.partner_membership.organisation.name not in body


def test_a_related_partner_sees_who_holds_each_listed_subscription(client, partner, tenant):
    grant_relationship(partner.partner_membership.organisation, tenant)
    held, free = SubscriptionFactory(tenant=tenant), SubscriptionFactory(tenant=tenant)
    active_associations(
        partner_user(), tenant, role="build_intent_advisor", products=(), subscriptions=[held]
    )
    client.force_login(partner)
    url = _units_step(
        client, partner, tenant, area="business_applications", role="build_intent_advisor"
    )
    body = client.get(url).content.decode()
    rows = {
        sid: row
        for row in body.split("<tr")
        for sid in (str(held.subscription_id), str(free.subscription_id))
        if sid in row
    }
    assert OTHER in rows[str(held.subscription_id)]
    assert "Not held by a partner" in rows[str(free.subscription_id)]


def test_the_standings_of_every_row_take_one_query(
    partner, tenant, rival, licences, django_assert_num_queries
):
    organisation_id = partner.partner_membership.organisation_id
    codes = list(
        Product.objects.filter(solution_area__code="modern_work_security").values_list(
            "code", flat=True
        )
    )
    with django_assert_num_queries(1):
        standings = workload_standings(organisation_id=organisation_id, tenant=tenant, codes=codes)
    assert len(standings) == len(codes) > 2
    assert standings["intune"].holder == Holder.OTHER and standings["teams"].licensed
    with django_assert_num_queries(1):
        subscription_standings(
            organisation_id=organisation_id,
            tenant=tenant,
            subscription_ids=[s.subscription_id for s in licences],
        )
