"""Partner onboarding by program admins: organisation, locations and the invitation."""

import re

import pytest
from django.urls import reverse

from cpor.accounts.models import OperatorRole, User
from cpor.notifications.models import OutboxMessage
from cpor.partners import services
from cpor.partners.models import Membership, PartnerLocation, PartnerOrganisation, PartnerRoleName
from cpor.testing.factories import LocationFactory, UserFactory, operator_user

pytestmark = pytest.mark.django_db

ONBOARD = {
    "name": "Iberia Cloud Services",
    "partner_id": "7100100",
    "location_name": "Madrid",
    "country": "es",
    "email": "ana@iberia-cloud.example",
    "first_name": "Ana",
    "last_name": "Gómez",
    "language": "en",
}


@pytest.fixture
def admin_client(client):
    client.force_login(operator_user(OperatorRole.PROGRAM_ADMIN))
    return client


def test_onboarding_creates_the_organisation_location_and_invited_admin(admin_client):
    response = admin_client.post(reverse("review:partner_new"), ONBOARD)
    organisation = PartnerOrganisation.objects.get(name="Iberia Cloud Services")
    assert response.status_code == 302
    assert response["Location"] == reverse("review:partner", args=[organisation.pk])
    location = organisation.locations.get()
    assert (location.partner_id, location.country) == ("7100100", "ES")
    user = User.objects.get(email="ana@iberia-cloud.example")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert membership.organisation == organisation
    assert membership.role == PartnerRoleName.PARTNER_ADMIN
    message = OutboxMessage.objects.get(recipient="ana@iberia-cloud.example")
    assert "Iberia Cloud Services" in message.subject
    assert "/accounts/password/reset/key/" in message.body_text
    assert "Iberia Cloud Services" in message.body_html


def test_the_invitation_link_lets_the_admin_set_a_password_and_sign_in(admin_client, client):
    admin_client.post(reverse("review:partner_new"), ONBOARD)
    message = OutboxMessage.objects.get(recipient=ONBOARD["email"])
    url = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", message.body_text).group(0)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    admin_client.logout()
    page = admin_client.get(path, follow=True)
    assert page.status_code == 200
    form_path = page.redirect_chain[-1][0] if page.redirect_chain else path
    done = admin_client.post(
        form_path, {"password1": "a-long-new-passphrase-9", "password2": "a-long-new-passphrase-9"}
    )
    assert done.status_code == 302
    user = User.objects.get(email=ONBOARD["email"])
    assert user.check_password("a-long-new-passphrase-9")


def test_onboarding_refuses_a_taken_partner_id_and_writes_nothing(admin_client):
    LocationFactory(partner_id="7100100")
    response = admin_client.post(reverse("review:partner_new"), ONBOARD)
    assert response.status_code == 400
    assert "partner_id" in response.context["form"].errors
    assert not PartnerOrganisation.objects.filter(name="Iberia Cloud Services").exists()
    assert not User.objects.filter(email=ONBOARD["email"]).exists()
    assert not OutboxMessage.objects.exists()


def test_onboarding_refuses_a_known_user_and_writes_nothing(admin_client):
    UserFactory(email=ONBOARD["email"], username=ONBOARD["email"])
    response = admin_client.post(reverse("review:partner_new"), ONBOARD)
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert not PartnerOrganisation.objects.filter(name="Iberia Cloud Services").exists()
    assert not PartnerLocation.objects.filter(partner_id="7100100").exists()


def test_bad_partner_id_is_refused(admin_client):
    response = admin_client.post(reverse("review:partner_new"), {**ONBOARD, "partner_id": "12ab"})
    assert response.status_code == 400
    assert not PartnerOrganisation.objects.exists()


def test_admin_adds_a_location_and_invites_another_admin(admin_client):
    admin_client.post(reverse("review:partner_new"), ONBOARD)
    organisation = PartnerOrganisation.objects.get()
    response = admin_client.post(
        reverse("review:partner_location_add", args=[organisation.pk]),
        {"partner_id": "7100101", "location_name": "Lisbon", "country": "PT"},
    )
    assert response.status_code == 302
    assert organisation.locations.count() == 2
    response = admin_client.post(
        reverse("review:partner_invite", args=[organisation.pk]),
        {
            "email": "rui@iberia-cloud.example",
            "first_name": "Rui",
            "last_name": "Sá",
            "language": "pt-pt",
        },
    )
    assert response.status_code == 302
    assert OutboxMessage.objects.get(recipient="rui@iberia-cloud.example").language == "pt-pt"
    page = admin_client.get(reverse("review:partner", args=[organisation.pk]))
    assert b"rui@iberia-cloud.example" in page.content
    assert b"7100101" in page.content


def test_partner_list_searches_by_name_or_partner_id(admin_client):
    LocationFactory(partner_id="8800001", organisation__name="Findable Partner")
    LocationFactory(partner_id="8800002", organisation__name="Other Partner")
    by_name = admin_client.get(reverse("review:partners"), {"q": "findable"})
    assert [o.name for o in by_name.context["organisations"]] == ["Findable Partner"]
    by_id = admin_client.get(reverse("review:partners"), {"q": "8800002"})
    assert [o.name for o in by_id.context["organisations"]] == ["Other Partner"]


def test_only_program_admins_onboard():
    from cpor.errors import DomainError

    with pytest.raises(DomainError):
        services.partner_onboard(
            actor=operator_user(OperatorRole.REVIEWER),
            name="X",
            location=services.LocationInput("7100100", "X"),
            admin=services.AdminInput("x@x.example", "X", "Y"),
        )
    assert not PartnerOrganisation.objects.exists()
