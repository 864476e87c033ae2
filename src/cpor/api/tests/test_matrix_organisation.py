"""The authorisation matrix of the Organisation area's endpoints, the program's PartnerID
verification, tenant look-ups, customer invitations and the audit trail: each role (the
same people as ``test_matrix``), own and other organisation."""

import pytest

from cpor.customers import relationships
from cpor.partners import self_service
from cpor.partners.services import LocationInput

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
PARTNER_ADMIN_ONLY = {"partner_admin"}
PARTNERS = {"partner_admin", "incentives_admin", "incentives_user", "other_partner"}


def expect(role, allowed: set[str], ok: int = 200) -> int:
    if role == "anonymous":
        return 401
    return ok if role in allowed else 403


@pytest.mark.parametrize("role", ROLES)
def test_organisation_reads(clients, people, customer, role):
    client = clients[role]
    for url in (
        "/api/v1/organisation/users/",
        "/api/v1/organisation/locations/",
        "/api/v1/organisation/customers/",
    ):
        assert client.get(url).status_code == expect(role, PARTNER_ADMIN_ONLY), (role, url)
    assert client.get("/api/v1/audit/").status_code == expect(
        role, {"partner_admin", "reviewer", "program_admin"}
    )
    assert client.get("/api/v1/program/locations/").status_code == expect(role, {"program_admin"})
    assert client.get(f"/api/v1/tenants/{customer.tenant_id}/").status_code == expect(
        role, PARTNERS
    )
    assert client.get("/api/v1/customer/invitations/").status_code == expect(
        role, {"customer_admin"}
    )


@pytest.mark.parametrize("role", ROLES)
def test_organisation_writes(clients, people, role):
    client = clients[role]
    member = people["incentives_user"].partner_membership
    invited = client.post(
        "/api/v1/organisation/users/",
        {
            "email": f"{role}@new.example",
            "first_name": "A",
            "last_name": "B",
            "role": "incentives_user",
        },
        format="json",
    )
    assert invited.status_code == expect(role, PARTNER_ADMIN_ONLY, 201), role
    changed = client.post(
        f"/api/v1/organisation/users/{member.pk}/role/", {"role": "incentives_admin"}, format="json"
    )
    assert changed.status_code == expect(role, PARTNER_ADMIN_ONLY), role
    added = client.post(
        "/api/v1/organisation/locations/",
        {"partner_id": "66660001", "name": "Faro", "country": "PT"},
        format="json",
    )
    assert added.status_code == expect(role, PARTNER_ADMIN_ONLY, 201), role
    if role == "partner_admin":
        assert added.json()["verification"] == "pending"
    member.refresh_from_db()
    assert member.role == ("incentives_admin" if role == "partner_admin" else "incentives_user")


def test_another_organisations_member_is_a_404(clients, people):
    stranger = people["other_partner"].partner_membership
    response = clients["partner_admin"].post(
        f"/api/v1/organisation/users/{stranger.pk}/active/", {"active": False}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["field"] == "member"
    stranger.user.refresh_from_db()
    assert stranger.user.is_active


def test_last_admin_refusal_names_the_rule(clients, people):
    admin = people["partner_admin"].partner_membership
    response = clients["partner_admin"].post(
        f"/api/v1/organisation/users/{admin.pk}/role/", {"role": "incentives_user"}, format="json"
    )
    assert response.status_code == 409  # the organisation's state forbids it
    assert (response.json()["code"], response.json()["field"]) == ("last_partner_admin", "role")


@pytest.mark.parametrize("role", ROLES)
def test_location_decision(clients, people, role):
    location = self_service.location_request(
        actor=people["partner_admin"], location=LocationInput("66660002", "Faro", "PT")
    )
    response = clients[role].post(
        f"/api/v1/program/locations/{location.pk}/decide/", {"decision": "verify"}, format="json"
    )
    assert response.status_code == expect(role, {"program_admin"}), role
    location.refresh_from_db()
    assert location.is_verified == (role == "program_admin")


@pytest.mark.parametrize("role", ROLES)
def test_customer_invitations(clients, people, role):
    created = clients[role].post("/api/v1/customer/invitations/", {"note": "x"}, format="json")
    assert created.status_code == expect(role, {"customer_admin"}, 201), role
    invitation, code = relationships.invitation_create(actor=people["customer_admin"])
    accepted = clients[role].post(
        "/api/v1/organisation/customers/accept/", {"code": code}, format="json"
    )
    assert accepted.status_code == expect(role, PARTNER_ADMIN_ONLY, 201), role
    revoked = clients[role].post(f"/api/v1/customer/invitations/{invitation.pk}/revoke/")
    assert revoked.status_code == expect(role, {"customer_admin"}), role


def test_a_customer_admin_of_another_tenant_cannot_revoke(clients, people):
    from cpor.api.tests.conftest import token_client
    from cpor.consent.models import CustomerAdmin
    from cpor.testing.factories import UserFactory, customer_tenant

    invitation, _code = relationships.invitation_create(actor=people["customer_admin"])
    stranger = UserFactory()
    CustomerAdmin.objects.create(user=stranger, tenant=customer_tenant())
    response = token_client(stranger).post(f"/api/v1/customer/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
