"""Reviewer workload and legacy associations in a real browser, at phone width (390 px):
a bulk approval where one claim's unit is held, a saved filter, the workload and legacy
import pages without horizontal overflow or serious accessibility violations."""

import datetime

import pytest
from django.utils import timezone

from cpor.accounts.models import OperatorRole
from cpor.claims import services
from cpor.testing.browser import sign_in
from cpor.testing.factories import customer_tenant, operator_user, partner_user, submitted_claim

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, seeded_catalog):
    context = browser.new_context(viewport=PHONE, locale="pt-PT")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def overflows(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
    )


def test_bulk_approval_at_phone_width_reports_each_claim(phone, live_server):
    reviewer = operator_user()
    tenant = customer_tenant()
    today = timezone.localdate()
    holder = submitted_claim(partner_user(), tenant, signed_on=today, name="Teams (holder)")
    services.claim_approve(actor=operator_user(), claim=holder)
    held = submitted_claim(
        partner_user(), tenant, signed_on=today - datetime.timedelta(days=30), name="Held unit"
    )
    fine = submitted_claim(name="Fine claim")

    sign_in(phone, live_server, reviewer)
    phone.goto(f"{live_server.url}/review/")
    assert not overflows(phone.locator("body").page)
    phone.locator(f"#bulk-claim-{held.pk}").check()
    phone.locator(f"#bulk-claim-{fine.pk}").check()
    phone.locator("#id_bulk_action").select_option("approve")
    phone.locator("#bulk-submit").click()
    outcomes = phone.locator("#bulk-outcomes")
    assert (
        outcomes.get_by_role("row").filter(has_text=f"#{fine.pk}").get_by_text("Feito").is_visible()
    )
    assert "unit_held_with_newer_poe" in outcomes.inner_text()
    assert not overflows(phone)


def test_saved_filter_at_phone_width(phone, live_server):
    reviewer = operator_user()
    sign_in(phone, live_server, reviewer)
    phone.goto(f"{live_server.url}/review/?conflict=on")
    phone.locator("#id_saved_name").fill("Conflitos")
    phone.get_by_role("button", name="Guardar", exact=True).click()
    assert phone.locator("#saved-filters").get_by_role("link", name="Conflitos").is_visible()
    assert "conflict=on" in phone.url
    assert not overflows(phone)


def test_workload_and_legacy_pages_fit_a_phone_and_pass_axe(phone, live_server):
    from axe_playwright_python.sync_playwright import Axe

    admin = operator_user(OperatorRole.PROGRAM_ADMIN)
    operator_user()
    claim = submitted_claim()
    sign_in(phone, live_server, admin)
    axe, problems = Axe(), []
    for path in (
        "/review/",
        "/review/workload/",
        "/review/admin/legacy/",
        f"/review/claims/{claim.pk}/",
    ):
        phone.goto(f"{live_server.url}{path}")
        if overflows(phone):
            problems.append((path, "horizontal overflow at 390 px"))
        for violation in axe.run(phone).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(
                    (path, violation["id"], [n["html"][:120] for n in violation["nodes"]])
                )
    assert problems == [], "\n".join(map(str, problems))
