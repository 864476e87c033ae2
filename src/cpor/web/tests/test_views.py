import pytest
from django.urls import reverse

from cpor.testing.factories import PASSWORD, partner_user

pytestmark = pytest.mark.django_db


def test_home_explains_which_partner_role_to_choose(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for role in (
        "Use or consume",
        "Build intent - Advisor",
        "Usage recognition - Non-incentivized",
        "Influenced revenue recognition - Non-incentivized",
    ):
        assert role in body
    assert "cdn" not in body.lower()


def test_health_reports_the_database(client):
    assert client.get(reverse("web:health")).json() == {"status": "ok"}


def test_partner_signs_in_with_email_in_any_case(client):
    user = partner_user()
    response = client.post(
        reverse("account_login"), {"login": user.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"] == user


def test_wrong_password_is_refused_with_a_message(client):
    user = partner_user()
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nope"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()


def test_customer_admin_lands_on_their_partners_not_the_partner_start_page(client):
    from cpor.consent.models import CustomerAdmin
    from cpor.testing.factories import UserFactory, customer_tenant

    admin = UserFactory()
    CustomerAdmin.objects.create(user=admin, tenant=customer_tenant())
    client.force_login(admin)
    response = client.get("/", follow=True)
    assert response.redirect_chain == [(reverse("consent:overview"), 302)]
    assert "Which partner role should I choose?" not in response.content.decode()


def test_partner_start_page_shows_the_shell_navigation_for_their_role(client):
    client.force_login(partner_user())
    body = client.get("/").content.decode()
    assert 'href="/claims/"' in body and 'href="/usage/"' in body
    assert "/review/" not in body  # no operator section for a partner
    assert 'rel="icon"' in body


def test_navigation_leads_to_the_organisation_area_and_the_audit_trail(client):
    from cpor.partners.models import PartnerRoleName
    from cpor.testing.factories import operator_user

    client.force_login(operator_user())
    assert 'href="/organisation/audit/"' in client.get("/review/").content.decode()
    assert client.get("/organisation/audit/").status_code == 200
    client.force_login(partner_user(PartnerRoleName.PARTNER_ADMIN))
    body = client.get("/claims/").content.decode()
    assert 'href="/organisation/"' in body
    assert 'href="/organisation/api-tokens/"' in body
    client.force_login(partner_user(PartnerRoleName.INCENTIVES_USER))
    assert 'href="/organisation/"' not in client.get("/claims/").content.decode()
