import pytest
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.partners.models import PartnerOrganisation, PartnerRoleName
from cpor.testing.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program_admin():
    return UserFactory(operator_role=OperatorRole.PROGRAM_ADMIN, is_staff=True)


def inline_management(prefix: str, total: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_program_admin_onboards_a_partner_with_a_location_and_a_user(client, program_admin):
    user = UserFactory()
    client.force_login(program_admin)

    response = client.post(
        reverse("admin:partners_partnerorganisation_add"),
        {
            "name": "Northwind Consulting",
            "active": "on",
            **inline_management("locations", 1),
            "locations-0-partner_id": "5123456",
            "locations-0-name": "Northwind Lisbon",
            "locations-0-country": "PT",
            "locations-0-active": "on",
            **inline_management("memberships", 1),
            "memberships-0-user": user.pk,
            "memberships-0-role": PartnerRoleName.PARTNER_ADMIN,
        },
    )

    assert response.status_code == 302
    organisation = PartnerOrganisation.objects.get(name="Northwind Consulting")
    assert list(organisation.locations.values_list("partner_id", flat=True)) == ["5123456"]
    assert organisation.memberships.get().user == user


def test_partner_locations_are_found_by_partner_id(client, program_admin):
    wanted = LocationFactory(partner_id="7770001")
    LocationFactory(partner_id="1234567")
    client.force_login(program_admin)

    response = client.get(reverse("admin:partners_partnerlocation_changelist"), {"q": "7770001"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_membership_user_autocomplete_answers_program_admins(client, program_admin):
    UserFactory(email="ines@northwind.example", username="ines@northwind.example")
    client.force_login(program_admin)

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "partners",
            "model_name": "membership",
            "field_name": "user",
            "term": "ines@",
        },
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["ines@northwind.example"]
