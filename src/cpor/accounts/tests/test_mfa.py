"""The second factor enforced per role (``CPOR_MFA_REQUIRED_ROLES``, default: program
admins, reviewers and partner admins): a user in such a role without an authenticator
app or passkey is sent to enrolment right after signing in and reaches nothing else,
pages or API, until enrolled."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.api.services import api_token_create
from cpor.partners.models import Membership, PartnerRoleName
from cpor.testing.factories import PASSWORD, OrganisationFactory, UserFactory, partner_user

pytestmark = pytest.mark.django_db

ENROL = reverse("mfa_index")


def unenrolled(role: str):
    if role in OperatorRole.values:
        return UserFactory(operator_role=role, is_staff=True, second_factor=False)
    user = UserFactory(second_factor=False)
    Membership.objects.create(user=user, organisation=OrganisationFactory(), role=role)
    return user


def sign_in(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    return response


@pytest.mark.parametrize(
    "role", [OperatorRole.PROGRAM_ADMIN, OperatorRole.REVIEWER, PartnerRoleName.PARTNER_ADMIN]
)
def test_unenrolled_user_in_a_required_role_reaches_only_enrolment(client, role):
    user = unenrolled(role)
    response = sign_in(client, user)

    assert client.get(response.url).url == ENROL  # right after signing in
    for path in ("/", "/claims/", "/review/", "/admin/", "/api/tokens/", "/accounts/email/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == ENROL, path
    api = client.get("/api/v1/claims/")
    assert api.status_code == 403 and api.json()["code"] == "mfa_enrolment_required"
    body = client.get(ENROL).content.decode()
    assert "Your role requires two-factor authentication" in body
    # allauth asks for the password again before adding a factor: that page is open too.
    for name in ("mfa_activate_totp", "mfa_add_webauthn"):
        response = client.get(reverse(name), follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    assert client.get(reverse("mfa_add_webauthn")).status_code == 200


def test_enrolling_unlocks_everything(client):
    user = unenrolled(OperatorRole.REVIEWER)
    sign_in(client, user)
    assert client.get("/review/").url == ENROL

    TOTP.activate(user, generate_totp_secret())

    assert client.get("/review/").status_code == 200


def test_roles_outside_the_setting_are_not_forced(client):
    user = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    sign_in(client, user)
    assert client.get("/claims/").status_code == 200


def test_the_program_decides_which_roles(client, settings):
    settings.CPOR_MFA_REQUIRED_ROLES = ["incentives_user"]
    reviewer = unenrolled(OperatorRole.REVIEWER)
    sign_in(client, reviewer)
    assert client.get("/review/").status_code == 200
    client.logout()
    reader = unenrolled(PartnerRoleName.INCENTIVES_USER)
    sign_in(client, reader)
    assert client.get("/claims/").url == ENROL


def test_language_switch_and_sign_out_stay_open(client):
    sign_in(client, unenrolled(PartnerRoleName.PARTNER_ADMIN))
    assert client.post(reverse("set_language"), {"language": "pt-pt", "next": ENROL}).url == ENROL
    body = client.get("/claims/", follow=True).content.decode()
    assert "A sua função exige autenticação de dois fatores" in body
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_api_token_of_an_unenrolled_user_is_refused_with_the_reason(client):
    user = partner_user(PartnerRoleName.PARTNER_ADMIN)  # enrolled by the factory
    _token, raw = api_token_create(actor=user, name="ERP")
    headers = {"authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/claims/", headers=headers).status_code == 200

    user.authenticator_set.all().delete()  # e.g. removed their app and never re-enrolled

    response = client.get("/api/v1/claims/", headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_enrolment_required"
    assert "two-factor" in response.json()["message"]


def test_password_sign_in_is_refused_when_the_organisation_requires_sso(client):
    from cpor.accounts.models import OrganisationSignOn, SignOnTenant

    user = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    sign_on = OrganisationSignOn.objects.create(
        organisation=user.partner_membership.organisation, sso_required=True
    )
    SignOnTenant.objects.create(sign_on=sign_on, tenant_id="6f1f0c3e-2c4b-4d8e-9d1a-0c2b3a4d5e6f")

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "signs in through single sign-on" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_says_nothing_about_sso(client):
    """The SSO message comes only after the password proved who it is (no enumeration)."""
    from cpor.accounts.models import OrganisationSignOn

    user = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    OrganisationSignOn.objects.create(
        organisation=user.partner_membership.organisation, sso_required=True
    )
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nope"})
    assert response.status_code == 200
    assert "single sign-on" not in response.content.decode()
