import pytest

from cpor.claims import services
from cpor.claims.models import Association, AssociationStatus, ClaimStatus, EndReason
from cpor.consent.models import CustomerAdmin
from cpor.testing.factories import UserFactory, customer_tenant, submitted_claim

from .conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_admin(customer):
    user = UserFactory()
    CustomerAdmin.objects.create(user=user, tenant=customer)
    return token_client(user)


def test_customer_admin_sees_and_declines_associations_of_their_tenant_only(
    customer_admin, customer, people, clients
):
    claim = submitted_claim(people["incentives_admin"], customer)
    services.claim_approve(actor=people["reviewer"], claim=claim)
    elsewhere = submitted_claim(people["other_partner"], customer_tenant())
    services.claim_approve(actor=people["reviewer"], claim=elsewhere)
    mine = Association.objects.get(claim=claim)
    theirs = Association.objects.get(claim=elsewhere)

    listed = customer_admin.get("/api/v1/customer/associations/").json()
    assert [a["id"] for a in listed] == [mine.pk]
    assert (
        customer_admin.post(
            f"/api/v1/customer/associations/{theirs.pk}/decline/", {}, format="json"
        ).status_code
        == 404
    )
    declined = customer_admin.post(
        f"/api/v1/customer/associations/{mine.pk}/decline/",
        {"reason": "We never hired them"},
        format="json",
    )
    assert declined.status_code == 200, declined.json()
    assert declined.json()["status"] == AssociationStatus.ENDED
    assert declined.json()["end_reason"] == EndReason.DECLINED_BY_CUSTOMER
    theirs.refresh_from_db()
    assert theirs.status == AssociationStatus.PENDING_CUSTOMER


def test_customer_admin_declines_a_request_under_review(customer_admin, customer, people):
    claim = submitted_claim(people["incentives_admin"], customer, products=["teams", "intune"])
    requests = customer_admin.get("/api/v1/customer/requests/").json()
    assert [r["id"] for r in requests] == [claim.pk]
    teams = claim.lines.get(product__code="teams")
    partly = customer_admin.post(
        f"/api/v1/customer/requests/{claim.pk}/decline/", {"line_ids": [teams.pk]}, format="json"
    )
    assert partly.status_code == 200, partly.json()
    assert {line["product"]: line["status"] for line in partly.json()["lines"]} == {
        "teams": "declined",
        "intune": "pending",
    }
    whole = customer_admin.post(f"/api/v1/customer/requests/{claim.pk}/decline/", {}, format="json")
    assert whole.json()["status"] == ClaimStatus.DECLINED


def test_only_customer_admins_use_the_customer_endpoints(clients, customer, people):
    claim = submitted_claim(people["incentives_admin"], customer)
    for role, client in clients.items():
        if role == "customer_admin":
            # A customer admin of another tenant: its lists, and nothing of this tenant.
            assert client.get("/api/v1/customer/requests/").json() == []
            response = client.post(
                f"/api/v1/customer/requests/{claim.pk}/decline/", {}, format="json"
            )
            assert response.status_code == 404
            continue
        expected = 401 if role == "anonymous" else 403
        assert client.get("/api/v1/customer/associations/").status_code == expected
        assert client.get("/api/v1/customer/requests/").status_code == expected
        response = client.post(f"/api/v1/customer/requests/{claim.pk}/decline/", {}, format="json")
        assert response.status_code == expected
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_another_tenants_request_is_404(customer_admin, people):
    claim = submitted_claim(people["incentives_admin"], customer_tenant())
    response = customer_admin.post(
        f"/api/v1/customer/requests/{claim.pk}/decline/", {}, format="json"
    )
    assert response.status_code == 404
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_customer_admin_sees_no_partner_data(customer_admin, customer, people):
    submitted_claim(people["incentives_admin"], customer)
    assert customer_admin.get("/api/v1/claims/").json()["results"] == []
    assert customer_admin.get("/api/v1/associations/").json()["results"] == []
    assert customer_admin.get("/api/v1/review/queue/").status_code == 403
    assert customer_admin.get("/api/v1/webhooks/").json() == []
