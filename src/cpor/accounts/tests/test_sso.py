"""Single sign-on against a real OpenID Connect provider: a django-oauth-toolkit process
on loopback (``cpor.testing.idp``) with discovery, the authorization code flow with PKCE
and RS256-signed id_tokens, in Entra ID's multi-tenant style (one issuer per ``tid``).
A real HTTP client (requests, one session per browser) drives the live CPOR server.
"""

import uuid

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.urls import reverse

from cpor.accounts.models import OrganisationSignOn, SignOnDomain, SignOnTenant, User
from cpor.partners.models import Membership, PartnerRoleName
from cpor.testing.factories import PASSWORD, OrganisationFactory, UserFactory, partner_user
from cpor.testing.idp.process import IdentityProvider

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDER_ID = "testidp"
CLIENT_ID = "cpor-client"
CLIENT_SECRET = "cpor-client-secret"
PARTNER_TENANT = str(uuid.uuid4())
OTHER_TENANT = str(uuid.uuid4())
OPERATOR_TENANT = str(uuid.uuid4())


@pytest.fixture(scope="session")
def idp(tmp_path_factory):
    provider = IdentityProvider(tmp_path_factory.mktemp("idp")).start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(idp, live_server, seeded_catalog):
    """CPOR registered at the IdP, the IdP configured in CPOR (a SocialApp, as a program
    admin adds it in the admin), and no fault switched on."""
    idp.control(
        "client",
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        redirect_uri=f"{live_server.url}/accounts/oidc/{PROVIDER_ID}/login/callback/",
    )
    idp.control("fault", mode="")
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id=PROVIDER_ID,
        name="Contoso Entra ID",
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        settings={"server_url": idp.base_url},
    )
    return idp


def linked_organisation(*, invite_only=False, sso_required=False, tenant=PARTNER_TENANT):
    organisation = OrganisationFactory()
    sign_on = OrganisationSignOn.objects.create(
        organisation=organisation, invite_only=invite_only, sso_required=sso_required
    )
    SignOnTenant.objects.create(sign_on=sign_on, tenant_id=tenant)
    return organisation


def person(idp, username, *, tid=PARTNER_TENANT, amr=("pwd",), active=True, email=None):
    oid = str(uuid.uuid5(uuid.NAMESPACE_DNS, username))
    idp.control(
        "person",
        username=username,
        password=PASSWORD,
        active=active,
        claims={
            "tid": tid,
            "oid": oid,
            "email": email or username,
            "given_name": "Ana",
            "family_name": "Sousa",
            "amr": list(amr),
        },
    )
    return oid


def sso_sign_in(live_server, idp, username) -> tuple[requests.Session, requests.Response]:
    """Click "Sign in with Contoso Entra ID", sign in at the IdP, follow it back."""
    browser = requests.Session()
    login_page = browser.get(f"{live_server.url}/accounts/login/")
    assert "Sign in with Contoso Entra ID" in login_page.text
    at_idp = browser.post(
        f"{live_server.url}/accounts/oidc/{PROVIDER_ID}/login/",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
    )
    assert at_idp.url.startswith(f"{idp.base_url}/login/"), at_idp.url
    # The authorization request carried PKCE and a nonce.
    authorize = requests.utils.unquote(at_idp.url)
    assert "code_challenge_method=S256" in authorize and "nonce=" in authorize
    back = browser.post(at_idp.url, data={"username": username, "password": PASSWORD})
    return browser, back


def signed_in(live_server, browser: requests.Session) -> bool:
    response = browser.get(f"{live_server.url}/accounts/2fa/", allow_redirects=False)
    return response.status_code == 200


def test_first_sign_in_provisions_the_least_role(sso, live_server):
    organisation = linked_organisation()
    oid = person(sso, "ana@partner.example")

    browser, response = sso_sign_in(live_server, sso, "ana@partner.example")

    assert response.status_code == 200 and response.url == f"{live_server.url}/"
    assert signed_in(live_server, browser)
    user = User.objects.get(email="ana@partner.example")
    assert user.partner_membership.organisation == organisation
    assert user.partner_membership.role == PartnerRoleName.INCENTIVES_USER
    assert not user.has_usable_password()  # the IdP is their only way in
    assert SocialAccount.objects.get(user=user).uid == oid  # keyed by Entra's oid
    # The next sign-in finds the same person, not a new one.
    browser, response = sso_sign_in(live_server, sso, "ana@partner.example")
    assert signed_in(live_server, browser)
    assert User.objects.filter(email="ana@partner.example").count() == 1


def test_invite_only_organisation_refuses_people_it_did_not_invite(sso, live_server):
    linked_organisation(invite_only=True)
    person(sso, "rui@partner.example")

    browser, response = sso_sign_in(live_server, sso, "rui@partner.example")

    assert response.status_code == 403
    assert 'data-code="invite_only"' in response.text
    assert "admits only the people it invites" in response.text
    assert not signed_in(live_server, browser)
    assert not User.objects.filter(email="rui@partner.example").exists()


def test_invited_person_is_connected_and_keeps_their_role(sso, live_server):
    organisation = linked_organisation(invite_only=True)
    invited = partner_user(PartnerRoleName.INCENTIVES_ADMIN, organisation=organisation)
    person(sso, invited.email)

    browser, response = sso_sign_in(live_server, sso, invited.email)

    assert response.status_code == 200 and signed_in(live_server, browser)
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user == invited
    assert Membership.objects.get(user=invited).role == PartnerRoleName.INCENTIVES_ADMIN


def test_unknown_tenant_is_refused(sso, live_server):
    linked_organisation()
    person(sso, "eve@elsewhere.example", tid=OTHER_TENANT)

    browser, response = sso_sign_in(live_server, sso, "eve@elsewhere.example")

    assert response.status_code == 403 and 'data-code="unknown_tenant"' in response.text
    assert not signed_in(live_server, browser)
    assert not User.objects.filter(email="eve@elsewhere.example").exists()


def test_an_email_domain_link_matches_when_the_tenant_is_not_linked(sso, live_server):
    organisation = OrganisationFactory()
    sign_on = OrganisationSignOn.objects.create(organisation=organisation, invite_only=False)
    SignOnDomain.objects.create(sign_on=sign_on, domain="fabrikam.example")
    person(sso, "joao@fabrikam.example", tid=OTHER_TENANT)

    browser, _response = sso_sign_in(live_server, sso, "joao@fabrikam.example")

    assert signed_in(live_server, browser)
    assert User.objects.get(email="joao@fabrikam.example").partner_membership.organisation == (
        organisation
    )


def test_another_organisations_identity_cannot_take_over_an_account(sso, live_server):
    """A partner's IdP asserting the e-mail of someone in another organisation is refused."""
    linked_organisation()  # PARTNER_TENANT belongs to this one
    victim = partner_user(PartnerRoleName.INCENTIVES_ADMIN)  # another organisation
    person(sso, "mallory", email=victim.email)

    browser, response = sso_sign_in(live_server, sso, "mallory")

    assert response.status_code == 403 and 'data-code="not_linked"' in response.text
    assert not signed_in(live_server, browser)
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("bad_signature", "signature"),
        ("wrong_audience", "audience"),
        ("expired", "expired"),
        ("replay_nonce", "nonce"),
    ],
)
def test_a_faulty_id_token_signs_nobody_in(sso, live_server, fault, reason):
    linked_organisation()
    person(sso, "ana@partner.example")
    # A good sign-in first, so that "replay_nonce" has an earlier nonce to replay.
    sso_sign_in(live_server, sso, "ana@partner.example")
    sso.control("fault", mode=fault)

    browser, response = sso_sign_in(live_server, sso, "ana@partner.example")

    assert "Single sign-on failed" in response.text
    assert f'data-reason="{reason}"' in response.text
    assert not signed_in(live_server, browser)


def test_person_disabled_at_the_idp_loses_access_at_the_next_sign_in(sso, live_server):
    linked_organisation()
    person(sso, "ana@partner.example")
    browser, _response = sso_sign_in(live_server, sso, "ana@partner.example")
    assert signed_in(live_server, browser)

    person(sso, "ana@partner.example", active=False)  # left the company
    browser, response = sso_sign_in(live_server, sso, "ana@partner.example")

    assert response.url.startswith(f"{sso.base_url}/login/") and "id='error'" in response.text
    assert not signed_in(live_server, browser)
    # No other door: a provisioned user has no password.
    browser = requests.Session()
    browser.get(f"{live_server.url}/accounts/login/")
    browser.post(
        f"{live_server.url}/accounts/login/",
        data={
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "login": "ana@partner.example",
            "password": PASSWORD,
        },
    )
    assert not signed_in(live_server, browser)


def test_idp_mfa_is_not_asked_twice(sso, live_server):
    organisation = linked_organisation()
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN, organisation=organisation)
    person(sso, admin.email, amr=("pwd", "mfa"))

    browser, response = sso_sign_in(live_server, sso, admin.email)

    assert response.url == f"{live_server.url}/"  # no /accounts/2fa/authenticate/ step
    assert browser.get(f"{live_server.url}/claims/").url == f"{live_server.url}/claims/"


def test_idp_without_mfa_leaves_cpors_second_factor_to_ask(sso, live_server):
    organisation = linked_organisation()
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN, organisation=organisation)
    person(sso, admin.email, amr=("pwd",))

    browser, response = sso_sign_in(live_server, sso, admin.email)

    assert response.url == f"{live_server.url}{reverse('mfa_authenticate')}"
    assert not signed_in(live_server, browser)


def test_unenrolled_partner_admin_signing_in_with_idp_mfa_needs_no_enrolment(sso, live_server):
    organisation = linked_organisation()
    admin = UserFactory(second_factor=False)
    Membership.objects.create(
        user=admin, organisation=organisation, role=PartnerRoleName.PARTNER_ADMIN
    )
    person(sso, admin.email, amr=("pwd", "mfa"))
    browser, _response = sso_sign_in(live_server, sso, admin.email)
    assert browser.get(f"{live_server.url}/claims/").url == f"{live_server.url}/claims/"

    person(sso, admin.email, amr=("pwd",))
    browser, _response = sso_sign_in(live_server, sso, admin.email)
    assert browser.get(f"{live_server.url}/claims/").url == f"{live_server.url}/accounts/2fa/"


def test_operator_staff_restricted_to_the_operators_idp(sso, live_server, settings):
    settings.CPOR_OPERATOR_IDP = f"{PROVIDER_ID}/{OPERATOR_TENANT}"
    reviewer = UserFactory(operator_role="reviewer")
    person(sso, reviewer.email, tid=OPERATOR_TENANT, amr=("pwd", "mfa"))

    browser, response = sso_sign_in(live_server, sso, reviewer.email)
    assert response.url == f"{live_server.url}/" and signed_in(live_server, browser)

    # The same e-mail asserted by a partner's tenant is not the reviewer.
    person(sso, reviewer.email, tid=PARTNER_TENANT, amr=("pwd", "mfa"))
    browser, response = sso_sign_in(live_server, sso, reviewer.email)
    assert response.status_code == 403 and 'data-code="operator_idp_required"' in response.text

    # Nor does the password open the door any more.
    browser = requests.Session()
    browser.get(f"{live_server.url}/accounts/login/")
    response = browser.post(
        f"{live_server.url}/accounts/login/",
        data={
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "login": reviewer.email,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 403 and 'data-code="sso_required"' in response.text
    assert not signed_in(live_server, browser)


def _activate_totp(live_server, browser: requests.Session) -> requests.Response:
    """Open the TOTP enrolment page and confirm it with the code of the secret shown."""
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from cpor.testing.browser import totp_code

    url = f"{live_server.url}{reverse('mfa_activate_totp')}"
    page = browser.get(url)
    if page.status_code != 200 or page.url != url:
        return page
    secret = SessionStore(browser.cookies["sessionid"])[SECRET_SESSION_KEY]
    return browser.post(
        url, data={"code": totp_code(secret), "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
    )


def test_user_provisioned_by_sso_can_enrol_a_second_factor(sso, live_server, settings):
    """No password to reauthenticate with: the sign-in through the IdP is the proof,
    and once it is old, signing in again through the IdP is the way offered."""
    linked_organisation()
    person(sso, "ana@partner.example", amr=("pwd",))
    sso_sign_in(live_server, sso, "ana@partner.example")
    user = User.objects.get(email="ana@partner.example")
    Membership.objects.filter(user=user).update(role=PartnerRoleName.PARTNER_ADMIN)
    browser, _response = sso_sign_in(live_server, sso, "ana@partner.example")
    enrol = f"{live_server.url}{reverse('mfa_index')}"
    assert browser.get(f"{live_server.url}/claims/").url == enrol

    # Long after the sign-in, reauthenticating means signing in through the IdP again.
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    stale = browser.get(f"{live_server.url}{reverse('mfa_activate_totp')}")
    assert stale.status_code == 200, [r.url for r in stale.history]
    assert stale.url.startswith(f"{live_server.url}/accounts/oidc/{PROVIDER_ID}/login/"), [
        (r.status_code, r.url, r.headers.get("Location")) for r in stale.history
    ]
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 300

    activated = _activate_totp(live_server, browser)

    assert activated.status_code == 200, activated.text[:500]
    assert user.authenticator_set.filter(type="totp").exists()
    assert browser.get(f"{live_server.url}/claims/").url == f"{live_server.url}/claims/"


def test_provisioning_and_lost_access_are_in_the_audit_trail(sso, live_server):
    from cpor.audit.models import AuditAction, AuditEntry
    from cpor.audit.selectors import audit_list

    organisation = linked_organisation()
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN, organisation=organisation)
    person(sso, "ana@partner.example")
    sso_sign_in(live_server, sso, "ana@partner.example")
    user = User.objects.get(email="ana@partner.example")

    provisioned = AuditEntry.objects.get(action=AuditAction.SSO_USER_PROVISIONED)
    assert provisioned.organisation == organisation and provisioned.actor == user
    assert provisioned.after["role"] == PartnerRoleName.INCENTIVES_USER
    assert provisioned.after["tenant_id"] == PARTNER_TENANT

    User.objects.filter(pk=user.pk).update(is_active=False)  # deactivated by the admin
    _browser, response = sso_sign_in(live_server, sso, "ana@partner.example")
    assert 'data-code="account_disabled"' in response.text

    refused = AuditEntry.objects.get(action=AuditAction.SSO_SIGN_IN_REFUSED)
    assert refused.organisation == organisation and refused.target_label == user.email
    assert refused.after["reason"] == "account_disabled"
    # The partner admin and the program read both.
    for reader in (admin, UserFactory(operator_role="program_admin")):
        actions = set(audit_list(actor=reader).values_list("action", flat=True))
        assert {AuditAction.SSO_USER_PROVISIONED, AuditAction.SSO_SIGN_IN_REFUSED} <= actions
