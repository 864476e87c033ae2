"""The Organisation's users, the reviewer workload and the wizard's typed subscription IDs
on a phone (390 px, Portuguese): each row becomes a card like the other lists, and
nothing makes the page scroll sideways (the page audit's overflow check, on these pages
with several rows)."""

import pytest

from cpor.accounts.models import OperatorRole
from cpor.partners.models import PartnerRoleName
from cpor.testing.browser import sign_in
from cpor.testing.factories import (
    MembershipFactory,
    SubscriptionFactory,
    UserFactory,
    operator_user,
    partner_user,
)

pytestmark = pytest.mark.browser

PAGE_WIDER_THAN_SCREEN = (
    "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
)


@pytest.fixture
def phone(browser, seeded_catalog):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-PT")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def _rows_are_cards(page, table: str) -> bool:
    return page.evaluate(
        f"""() => getComputedStyle(document.querySelector('{table} tbody tr')).display
        === 'flex'"""
    )


def test_organisation_users_fit_a_phone(phone, live_server):
    admin = partner_user(PartnerRoleName.PARTNER_ADMIN)
    organisation = admin.partner_membership.organisation
    for n in range(3):
        user = UserFactory(
            email=f"maria.joao.fernandes.{n}@parceiro-de-exemplo.example", language="pt-pt"
        )
        MembershipFactory(user=user, organisation=organisation)
    sign_in(phone, live_server, admin)

    phone.goto(f"{live_server.url}/organisation/users/")

    assert not phone.evaluate(PAGE_WIDER_THAN_SCREEN)
    assert _rows_are_cards(phone, "#members")


def test_reviewer_workload_fits_a_phone(phone, live_server):
    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    for _ in range(3):
        operator_user()
    sign_in(phone, live_server, admin)

    phone.goto(f"{live_server.url}/review/workload/")

    assert not phone.evaluate(PAGE_WIDER_THAN_SCREEN)
    assert _rows_are_cards(phone, "#workload")


def test_typed_subscriptions_fit_a_phone(phone, live_server, tenant):
    """The wizard's table of typed subscription IDs (no relationship with the customer):
    a card per ID on a phone, the page never wider than the screen."""
    partner = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    subscriptions = [SubscriptionFactory(tenant=tenant) for _ in range(3)]
    sign_in(phone, live_server, partner)

    phone.goto(f"{live_server.url}/claims/new/?area=business_applications")
    phone.locator("input[value=build_intent_advisor]").check()
    phone.get_by_role("button", name="Seguinte").click()
    phone.get_by_label("Nome da reclamação").fill("Renovação do Dynamics")
    phone.get_by_label("ID do inquilino do cliente").fill(str(tenant.tenant_id))
    phone.get_by_role("button", name="Seguinte").click()
    phone.locator("[name=subscription_ids]").fill(
        "\n".join(str(s.subscription_id) for s in subscriptions)
    )
    phone.get_by_role("button", name="Verificar o que escolhi").click()

    table = phone.locator("#typed-subscriptions")
    for subscription in subscriptions:
        assert str(subscription.subscription_id) in table.inner_text()
    assert not phone.evaluate(PAGE_WIDER_THAN_SCREEN)
    assert _rows_are_cards(phone, "#typed-subscriptions")
    # Nor does the table scroll sideways inside its box (what it did before), or any of
    # its cards.
    assert (
        phone.evaluate(
            """() => [document.querySelector('#typed-subscriptions').parentElement,
                  ...document.querySelectorAll('#typed-subscriptions tbody *')]
        .filter(el => el.scrollWidth > el.clientWidth + 1 && el.clientWidth !== 0)
        .map(el => `${el.tagName} ${el.scrollWidth}px > ${el.clientWidth}px`)"""
        )
        == []
    )
