"""The partner admin's Single sign-on page: who may open it, what it saves, and the
rules it refuses with the field named."""

import uuid

import pytest
from django.urls import reverse

from cpor.accounts.models import OrganisationSignOn, SignOnTenant
from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import OrganisationFactory, UserFactory, operator_user, partner_user

pytestmark = pytest.mark.django_db

URL = reverse("accounts_sso:single_sign_on")
TENANT = str(uuid.uuid4())


def form(**overrides):
    data = {
        "tenant_ids": TENANT,
        "domains": "Contoso.example\n@fabrikam.example",
        "invite_only": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("partner_admin", 200),
        ("incentives_admin", 403),
        ("incentives_user", 403),
        ("reviewer", 403),
        ("program_admin", 403),
        ("customer", 403),
    ],
)
def test_only_the_partner_admin_opens_the_page(client, who, status):
    if who in PartnerRoleName.values:
        client.force_login(partner_user(who))
    elif who in ("reviewer", "program_admin"):
        client.force_login(operator_user(who))
    elif who == "customer":
        client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == status
    if who == "anonymous":
        assert response.url.startswith(reverse("account_login"))


def test_partner_admin_links_tenant_and_domains(client):
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    client.force_login(admin)

    response = client.post(URL, form(sso_required="on"))

    assert response.status_code == 302
    sign_on = OrganisationSignOn.objects.get(organisation=admin.partner_membership.organisation)
    assert [str(t.tenant_id) for t in sign_on.tenants.all()] == [TENANT]
    assert [d.domain for d in sign_on.domains.all()] == ["contoso.example", "fabrikam.example"]
    assert sign_on.invite_only and sign_on.sso_required and sign_on.updated_by == admin
    page = client.get(URL).content.decode()
    assert "Single sign-on settings saved." in page and TENANT in page

    # Unlinking: what is left out of the form is removed.
    client.post(URL, form(tenant_ids="", domains="contoso.example"))
    assert not sign_on.tenants.exists()
    assert [d.domain for d in sign_on.domains.all()] == ["contoso.example"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"tenant_ids": "not-a-guid"}, "tenant_ids", "is not a tenant ID"),
        ({"domains": "contoso"}, "domains", "is not an e-mail domain"),
        ({"tenant_ids": "", "domains": "", "sso_required": "on"}, "sso_required", "Link a tenant"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, data, field, message):
    client.force_login(partner_user(PartnerRoleName.PARTNER_ADMIN))
    response = client.post(URL, form(**data))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not SignOnTenant.objects.exists()


def test_a_tenant_belongs_to_one_organisation(client):
    other = OrganisationSignOn.objects.create(organisation=OrganisationFactory())
    SignOnTenant.objects.create(sign_on=other, tenant_id=TENANT)
    client.force_login(partner_user(PartnerRoleName.PARTNER_ADMIN))

    response = client.post(URL, form())

    assert "is linked to another organisation" in " ".join(
        response.context["form"].errors["tenant_ids"]
    )
    assert SignOnTenant.objects.get().sign_on == other


def test_page_in_portuguese(client):
    client.force_login(partner_user(PartnerRoleName.PARTNER_ADMIN))
    body = client.get(URL, headers={"accept-language": "pt-PT"}).content.decode()
    assert "Início de sessão único" in body
    assert 'for="id_tenant_ids"' in body and 'for="id_domains"' in body


API = "/api/v1/organisation/single-sign-on/"


def test_api_reads_and_replaces_the_links(client):
    client.force_login(partner_user(PartnerRoleName.PARTNER_ADMIN))
    assert client.get(API).json() == {
        "tenant_ids": [],
        "domains": [],
        "invite_only": True,
        "sso_required": False,
    }
    body = {
        "tenant_ids": [TENANT],
        "domains": ["Contoso.example"],
        "invite_only": False,
        "sso_required": True,
    }

    response = client.put(API, body, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {**body, "domains": ["contoso.example"]}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"tenant_ids": ["nope"]}, "tenant_id_invalid", "tenant_ids"),
        ({"domains": ["contoso"]}, "domain_invalid", "domains"),
        ({"invite_only": "maybe"}, "invalid", "invite_only"),
    ],
)
def test_api_names_the_field_it_refuses(client, body, code, field):
    client.force_login(partner_user(PartnerRoleName.PARTNER_ADMIN))
    data = {"tenant_ids": [], "domains": [], "invite_only": True, "sso_required": False, **body}
    response = client.put(API, data, content_type="application/json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (code, field)


@pytest.mark.parametrize("role", ["incentives_admin", "incentives_user"])
def test_api_refuses_other_partner_roles(client, role):
    client.force_login(partner_user(role))
    assert client.get(API).status_code == 403
    assert client.put(API, {}, content_type="application/json").status_code == 403
