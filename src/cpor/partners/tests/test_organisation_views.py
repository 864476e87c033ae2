"""The Organisation area's pages: who reaches them, what they show, in English and
Portuguese; the program's verification page; the moved token and webhook pages."""

from urllib.parse import unquote

import pytest
from allauth.mfa.models import Authenticator

from cpor.audit.models import AuditAction, AuditEntry
from cpor.partners.models import LocationVerification, Membership, PartnerLocation
from cpor.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = (
    "/organisation/users/",
    "/organisation/locations/",
    "/organisation/customers/",
    "/organisation/audit/",
)
# role -> status of each Organisation page (partner admins only; others 403).
MATRIX = {
    "partner_admin": 200,
    "other_admin": 200,  # their own organisation's pages
    "incentives_admin": 403,
    "incentives_user": 403,
    "reviewer": 403,
    "program_admin": 403,
    "customer_admin": 403,
}


def test_anonymous_is_sent_to_sign_in(client):
    for url in (*PAGES, "/organisation/", "/organisation/api-tokens/", "/organisation/webhooks/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url, url


@pytest.mark.parametrize("role", MATRIX)
def test_organisation_pages_matrix(org, as_user, role):
    client = as_user(org[role])
    for url in PAGES:
        expected = MATRIX[role]
        if url == "/organisation/audit/" and role in ("reviewer", "program_admin"):
            expected = 200  # program staff read every organisation's trail
        assert client.get(url).status_code == expected, (role, url)
    member = org["incentives_user"].partner_membership
    for url, data in (
        (f"/organisation/users/{member.pk}/role/", {"role": "incentives_admin"}),
        (f"/organisation/users/{member.pk}/active/", {"active": "0"}),
        (
            "/organisation/users/",
            {
                "email": "x@y.example",
                "first_name": "X",
                "last_name": "Y",
                "role": "incentives_user",
                "language": "en",
            },
        ),
        ("/organisation/locations/", {"partner_id": "77770001", "location_name": "L"}),
    ):
        response = client.post(url, data)
        if role == "partner_admin":
            assert response.status_code == 302, (role, url)
        elif role == "other_admin":
            assert response.status_code in (302, 400), (role, url)
        else:
            assert response.status_code == 403, (role, url)
    member.refresh_from_db()
    if role != "partner_admin":  # nobody but A's admin changed A's member
        assert member.role == "incentives_user" and member.user.is_active


def test_other_organisations_admin_cannot_touch_our_members(org, as_user):
    member = org["incentives_user"].partner_membership
    client = as_user(org["other_admin"])
    response = client.post(
        f"/organisation/users/{member.pk}/role/", {"role": "partner_admin"}, follow=True
    )
    assert "No such user in your organisation." in response.content.decode()
    member.refresh_from_db()
    assert member.role == "incentives_user"
    page = client.get("/organisation/users/").content.decode()
    assert org["incentives_user"].email not in page


def test_users_page_shows_role_last_sign_in_and_mfa(org, as_user):
    body = as_user(org["partner_admin"]).get("/organisation/users/").content.decode()
    assert org["incentives_user"].email in body
    assert "Authenticator app" in body  # the partner admin's TOTP
    assert "Not enrolled" in body  # the incentives user has none
    assert Authenticator.objects.filter(user=org["partner_admin"]).exists()


def test_invite_then_change_role_then_deactivate_through_the_pages(org, as_user):
    client = as_user(org["partner_admin"])
    response = client.post(
        "/organisation/users/",
        {
            "email": "joana@partner.example",
            "first_name": "Joana",
            "last_name": "Reis",
            "role": "incentives_admin",
            "language": "en",
        },
    )
    assert response.status_code == 302
    member = Membership.objects.get(user__email="joana@partner.example")
    assert member.role == "incentives_admin"
    client.post(f"/organisation/users/{member.pk}/role/", {"role": "incentives_user"})
    client.post(f"/organisation/users/{member.pk}/active/", {"active": "0"})
    member.refresh_from_db()
    assert member.role == "incentives_user" and not member.user.is_active
    changes = AuditEntry.objects.exclude(action=AuditAction.SIGNED_IN)
    assert list(changes.order_by("id").values_list("action", flat=True)) == [
        AuditAction.MEMBER_INVITED,
        AuditAction.MEMBER_ROLE_CHANGED,
        AuditAction.MEMBER_DEACTIVATED,
    ]


def test_bad_invitation_names_the_field(org, as_user):
    response = as_user(org["partner_admin"]).post(
        "/organisation/users/",
        {
            "email": org["reviewer"].email,
            "first_name": "A",
            "last_name": "B",
            "role": "incentives_user",
            "language": "en",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == [
        f"A user with the e-mail {org['reviewer'].email} already exists."
    ]


def test_last_admin_and_self_deactivation_refused_with_a_message(org, as_user):
    admin = org["partner_admin"]
    client = as_user(admin)
    response = client.post(
        f"/organisation/users/{admin.partner_membership.pk}/role/",
        {"role": "incentives_user"},
        follow=True,
    )
    assert "only active partner admin" in response.content.decode()
    response = client.post(
        f"/organisation/users/{admin.partner_membership.pk}/active/", {"active": "0"}, follow=True
    )
    assert "You cannot deactivate yourself" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and admin.partner_membership.role == "partner_admin"


def test_pages_in_portuguese(org, as_user):
    admin = org["partner_admin"]
    admin.language = "pt-pt"
    admin.save()
    client = as_user(admin)
    users = client.get("/organisation/users/").content.decode()
    assert "Utilizadores" in users and "Convidar um utilizador" in users
    client.post("/organisation/locations/", {"partner_id": "77770001", "location_name": "Porto"})
    locations = client.get("/organisation/locations/").content.decode()
    assert "A aguardar verificação" in locations
    customers = client.get("/organisation/customers/").content.decode()
    assert "Aceitar o convite de um cliente" in customers


def test_location_added_waits_and_program_admin_verifies_it_on_its_page(org, as_user):
    client = as_user(org["partner_admin"])
    response = client.post(
        "/organisation/locations/",
        {"partner_id": "77770001", "location_name": "Porto", "country": "pt"},
    )
    assert response.status_code == 302
    location = PartnerLocation.objects.get(partner_id="77770001")
    assert location.verification == LocationVerification.PENDING
    bad = client.post("/organisation/locations/", {"partner_id": "12ab", "location_name": "X"})
    assert bad.status_code == 400 and "partner_id" in bad.context["form"].errors
    staff = as_user(org["program_admin"])
    assert "/review/admin/locations/" in staff.get("/review/admin/partners/").content.decode()
    detail = staff.get(f"/review/admin/partners/{org['organisation'].pk}/").content.decode()
    assert "Awaiting verification" in detail
    page = staff.get("/review/admin/locations/").content.decode()
    assert "77770001" in page
    refused = staff.post(
        f"/review/admin/locations/{location.pk}/decide/", {"decision": "refuse"}, follow=True
    )
    assert "Say why the PartnerID is refused." in refused.content.decode()
    staff.post(f"/review/admin/locations/{location.pk}/decide/", {"decision": "verify"})
    location.refresh_from_db()
    assert location.verification == LocationVerification.VERIFIED


@pytest.mark.parametrize(
    "role", ["partner_admin", "incentives_admin", "reviewer", "customer_admin"]
)
def test_only_program_admins_reach_the_verification_page(org, as_user, role):
    client = as_user(org[role])
    assert client.get("/review/admin/locations/").status_code == 403
    assert (
        client.post("/review/admin/locations/1/decide/", {"decision": "verify"}).status_code == 403
    )


def test_wizard_refuses_an_unverified_partner_id_with_a_clear_error(org, as_user):
    from django.urls import reverse

    PartnerLocation.objects.create(
        organisation=org["organisation"], partner_id="77770009", name="New", verification="pending"
    )
    client = as_user(org["incentives_admin"])
    url = client.get(reverse("claims:new")).url
    for data in ({"solution_area": "modern_work_security"}, {"role": "use_or_consume"}):
        url = client.post(url, data).url
    page = client.get(url).content.decode()
    assert "77770009 · New (awaiting the program&#x27;s verification)" in page
    response = client.post(
        url, {"name": "X", "partner_id": "77770009", "tenant_id": str(org["tenant"].tenant_id)}
    )
    assert response.status_code == 200
    assert "awaits the program&#x27;s verification" in response.content.decode()


def test_token_and_webhook_pages_moved_under_organisation_with_redirects(org, as_user):
    client = as_user(org["partner_admin"])
    for old, new in (
        ("/api/tokens/", "/organisation/api-tokens/"),
        ("/api/webhooks/", "/organisation/webhooks/"),
    ):
        response = client.get(old)
        assert response.status_code == 302 and response.url == new
        page = client.get(new)
        assert page.status_code == 200
        assert 'id="organisation-nav"' in page.content.decode()
    response = client.post("/organisation/api-tokens/", {"name": "CRM"})
    assert response.status_code == 200 and "Copy your new token now" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.TOKEN_CREATED).exists()


def test_customer_invites_a_partner_from_the_customer_page_and_revokes_it(org, as_user):
    customer = as_user(org["customer_admin"])
    overview = customer.get("/customer/").content.decode()
    assert "/customer/partners/" in overview
    page = customer.post("/customer/partners/", {"note": "Lisbon Cloud"})
    assert page.status_code == 200
    code = page.context["new_code"]
    assert unquote(page.context["new_link"]).endswith(f"/organisation/customers/?code={code}")
    admin = as_user(org["partner_admin"])
    prefilled = admin.get(f"/organisation/customers/?code={code}").content.decode()
    assert code in prefilled
    accepted = admin.post(
        "/organisation/customers/", {"code": page.context["new_link"]}, follow=True
    )
    assert f"{org['tenant'].name} invited your organisation" in accepted.content.decode()
    customer = as_user(org["customer_admin"])
    invitation = org["tenant"].partner_invitations.get()
    customer.post(f"/customer/partners/{invitation.pk}/revoke/")
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    stranger = UserFactory()
    assert as_user(stranger).get("/customer/partners/").status_code == 403
