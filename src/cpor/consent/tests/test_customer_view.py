"""The customer admin's view: their tenant's partners per unit, and decline; never
another tenant's."""

import pytest

from cpor.claims import services
from cpor.claims.models import AssociationStatus, ClaimStatus, EndReason
from cpor.consent.models import CustomerAdmin
from cpor.testing.factories import (
    UserFactory,
    customer_tenant,
    operator_user,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def customer_admin(tenant):
    return CustomerAdmin.objects.create(user=UserFactory(), tenant=tenant).user


@pytest.fixture
def setting(partner, tenant):
    reviewer = operator_user()
    claim = submitted_claim(partner, tenant)
    services.claim_approve(actor=reviewer, claim=claim)
    pending = submitted_claim(partner_user(), tenant, products=["intune"])
    other_tenant = customer_tenant()
    foreign = submitted_claim(partner_user(), other_tenant)
    services.claim_approve(actor=reviewer, claim=foreign)
    return {
        "association": claim.associations.get(),
        "pending": pending,
        "foreign": foreign.associations.get(),
        "foreign_claim": submitted_claim(partner_user(), other_tenant, products=["intune"]),
    }


def test_the_overview_lists_every_partner_per_unit_with_state(client, tenant, setting):
    client.force_login(customer_admin(tenant))
    body = client.get("/customer/").content.decode()
    association = setting["association"]
    assert association.organisation.name in body
    assert association.claim.location.partner_id in body
    assert "Pending customer" in body
    assert setting["pending"].organisation.name in body  # the request under review
    assert setting["foreign"].organisation.name not in body
    assert setting["foreign"].tenant.name not in body


def test_a_customer_admin_declines_an_association(client, tenant, setting):
    client.force_login(customer_admin(tenant))
    association = setting["association"]
    response = client.post(
        f"/customer/associations/{association.pk}/decline/",
        {"reason": "No longer our partner", "confirm": "1"},
    )
    assert response.status_code == 302
    association.refresh_from_db()
    assert association.status == AssociationStatus.ENDED
    assert association.end_reason == EndReason.DECLINED_BY_CUSTOMER
    assert association.end_message == "No longer our partner"


def test_a_customer_admin_declines_a_request_under_review(client, tenant, setting):
    client.force_login(customer_admin(tenant))
    pending = setting["pending"]
    client.post(f"/customer/requests/{pending.pk}/decline/", {"confirm": "1"})
    pending.refresh_from_db()
    assert pending.status == ClaimStatus.DECLINED


def test_a_customer_admin_never_reaches_another_tenant(client, tenant, setting):
    client.force_login(customer_admin(tenant))
    foreign = setting["foreign"]
    assert (
        client.post(f"/customer/associations/{foreign.pk}/decline/", {"confirm": "1"}).status_code
        == 404
    )
    assert (
        client.post(
            f"/customer/requests/{setting['foreign_claim'].pk}/decline/", {"confirm": "1"}
        ).status_code
        == 404
    )
    foreign.refresh_from_db()
    assert foreign.is_held
    setting["foreign_claim"].refresh_from_db()
    assert setting["foreign_claim"].status == ClaimStatus.SUBMITTED


@pytest.mark.parametrize("who", ["partner", "reviewer", "plain"])
def test_only_customer_admins_see_the_customer_view(client, setting, who):
    users = {
        "partner": lambda: partner_user(),
        "reviewer": lambda: operator_user(),
        "plain": lambda: UserFactory(),
    }
    client.force_login(users[who]())
    assert client.get("/customer/").status_code == 404
    association = setting["association"]
    assert (
        client.post(
            f"/customer/associations/{association.pk}/decline/", {"confirm": "1"}
        ).status_code
        == 404
    )
    association.refresh_from_db()
    assert association.is_held


def test_anonymous_visitors_are_sent_to_sign_in(client, setting):
    response = client.get("/customer/")
    assert response.status_code == 302 and "login" in response["Location"]
    association = setting["association"]
    client.post(f"/customer/associations/{association.pk}/decline/", {"confirm": "1"})
    association.refresh_from_db()
    assert association.is_held
