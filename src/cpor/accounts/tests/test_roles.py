"""A signed-in user's role relations: read once, together, then free for the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cpor.accounts.models import User
from cpor.accounts.selectors import load_roles, partner_role
from cpor.api.services import api_token_authenticate, api_token_create
from cpor.claims.permissions import partner_membership
from cpor.consent.models import CustomerAdmin
from cpor.partners.models import Membership, PartnerRoleName
from cpor.testing.factories import customer_tenant, operator_user, partner_user

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _what_it_is(user: User) -> tuple:
    """Everything the second-factor check, the permission checks and the shell read of
    a user's roles, in the order a page reads them."""
    role = partner_role(user)
    membership = getattr(user, "partner_membership", None)
    admin = getattr(user, "customer_admin", None)
    return (role, membership and membership.organisation.name, admin and admin.tenant.name)


def test_a_partners_roles_come_in_one_query():
    partner = partner_user(PartnerRoleName.PARTNER_ADMIN)
    user = _fresh(partner)
    with CaptureQueriesContext(connection) as queries:
        seen = _what_it_is(user)
        assert partner_membership(user) == partner.partner_membership
    assert seen == ("partner_admin", partner.partner_membership.organisation.name, None)
    assert len(queries) == 1


def test_a_customer_admin_and_an_operator_too_and_an_absent_role_stays_absent():
    tenant = customer_tenant()
    admin = User.objects.create(username="customer-admin", email="admin@customer.example")
    CustomerAdmin.objects.create(user=admin, tenant=tenant)
    reviewer = operator_user()
    for user, expected in [(admin, (None, None, tenant.name)), (reviewer, (None, None, None))]:
        user = _fresh(user)
        with CaptureQueriesContext(connection) as queries:
            assert _what_it_is(user) == expected
            with pytest.raises(Membership.DoesNotExist):
                user.partner_membership  # noqa: B018 (cached as absent: no query)
        assert len(queries) == 1


def test_a_membership_loaded_with_an_api_token_costs_nothing_more():
    partner = partner_user()
    raw = api_token_create(actor=partner, name="integration")[1]
    user = api_token_authenticate(raw).user
    with CaptureQueriesContext(connection) as queries:
        assert partner_role(user) == partner.partner_membership.role
        assert partner_membership(user).organisation == partner.partner_membership.organisation
    assert len(queries) == 0


def test_roles_loaded_once_are_not_read_again():
    user = _fresh(partner_user())
    load_roles(user)
    with CaptureQueriesContext(connection) as queries:
        load_roles(user)
        _what_it_is(user)
    assert len(queries) == 0


def test_a_page_shows_the_organisation_its_roles_named(client):
    partner = partner_user(PartnerRoleName.INCENTIVES_USER)
    client.force_login(partner)
    body = client.get(reverse("claims:list")).content.decode()
    organisation = partner.partner_membership.organisation.name
    assert f"{organisation} · Incentives user" in body
