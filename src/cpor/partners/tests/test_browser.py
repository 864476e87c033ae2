"""The Organisation area and the customer's invitation in a real browser, at phone width:
a partner admin invites a user and adds a PartnerID, the customer invites the partner,
the partner admin accepts; no serious accessibility problem, nothing wider than the
screen."""

import pytest

from cpor.consent.models import CustomerAdmin
from cpor.partners.models import LocationVerification, Membership, PartnerLocation, PartnerRoleName
from cpor.testing.browser import screenshot, sign_in
from cpor.testing.factories import UserFactory, customer_tenant, partner_user

pytestmark = pytest.mark.browser


def _problems(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    return [
        (v["id"], [n["html"][:150] for n in v["nodes"]])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _fits(page) -> bool:
    """Nothing is wider than the screen but the tables, which scroll in their own box."""
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .filter(e => !e.closest('.table-responsive'))
        .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)"""
    )
    assert wide == [], wide
    return True


def test_partner_admin_runs_the_organisation_at_phone_width(browser, seeded_catalog, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(60_000)
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    sign_in(page, live_server, admin)

    page.goto(f"{live_server.url}/organisation/")
    assert page.url.endswith("/organisation/users/")
    page.get_by_label("E-mail").fill("joana@partner.example")
    page.get_by_label("First name").fill("Joana")
    page.get_by_label("Last name").fill("Reis")
    page.locator("#id_invite_role").select_option("incentives_admin")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to joana@partner.example.").is_visible()
    member = Membership.objects.get(user__email="joana@partner.example")
    assert member.role == PartnerRoleName.INCENTIVES_ADMIN
    problems = _problems(page)
    assert _fits(page)
    screenshot(page, "organisation-users-phone")

    page.locator("#organisation-nav").get_by_role("link", name="Locations").click()
    page.locator("#id_location_partner_id").fill("88880001")
    page.locator("#id_location_location_name").fill("Porto")
    page.get_by_role("button", name="Add for verification").click()
    assert page.locator("#location-88880001").get_by_text("Awaiting verification").is_visible()
    assert PartnerLocation.objects.get(partner_id="88880001").verification == (
        LocationVerification.PENDING
    )
    problems += _problems(page)
    assert _fits(page)

    # The customer invites the partner from the customer page.
    tenant = customer_tenant()
    customer = UserFactory()
    CustomerAdmin.objects.create(user=customer, tenant=tenant)
    customer_context = browser.new_context(viewport={"width": 390, "height": 844})
    customer_page = customer_context.new_page()
    customer_page.set_default_timeout(60_000)
    sign_in(customer_page, live_server, customer)
    customer_page.goto(f"{live_server.url}/customer/")
    customer_page.get_by_role("link", name="Invite a partner to see your organisation").click()
    customer_page.get_by_label("For which partner (a note for yourself)").fill("Lisbon Cloud")
    customer_page.get_by_role("button", name="Create an invitation").click()
    link = customer_page.locator("#invitation-link").input_value()
    problems += _problems(customer_page)
    assert _fits(customer_page)
    customer_context.close()

    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    page.get_by_role("button", name="Accept invitation").click()
    assert page.get_by_text(f"{tenant.name} invited your organisation").is_visible()
    assert page.locator("#relationships").get_by_text(tenant.name).is_visible()
    problems += _problems(page)
    assert _fits(page)
    screenshot(page, "organisation-customers-phone")
    assert not problems, problems
    context.close()
