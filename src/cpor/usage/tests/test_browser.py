"""The usage pages in a real browser: charts render, no serious accessibility issues."""

import pytest
from playwright.sync_api import expect

from cpor.testing.browser import screenshot, sign_in

pytestmark = pytest.mark.browser


def serious_violations(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    return [
        (violation["id"], [node["html"][:120] for node in violation["nodes"]])
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_partner_sees_charts_tables_and_a_unit(page, live_server, holdings):
    sign_in(page, live_server, holdings.partner)
    page.get_by_role("link", name="Customer usage").click()
    expect(page.get_by_role("heading", name="Customer usage")).to_be_visible()
    expect(page.get_by_role("img", name="Monthly active users against paid")).to_be_visible()
    assert page.get_by_role("cell", name="Contoso Usage").count() == 2
    assert page.get_by_text("Northwind Elsewhere").count() == 0
    assert serious_violations(page) == []
    screenshot(page, "usage-dashboard")

    product = holdings.teams.product.name
    page.get_by_role("link", name=product, exact=True).click()
    expect(page.get_by_role("heading", name=f"{product} · Contoso Usage")).to_be_visible()
    expect(page.get_by_role("img")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "usage-unit")


def test_program_admin_uploads_usage_and_reads_the_report(page, live_server, holdings, tmp_path):
    tenant = holdings.teams.tenant
    path = tmp_path / "usage.csv"
    month = f"{holdings.this_month:%Y-%m}"
    path.write_text(
        "tenant_id,workload,month,active_users,paid_units\n"
        f"{tenant.tenant_id},intune,{month},40,50\n"
        f"{tenant.tenant_id},intune,{month},-3,50\n"
        f"00000000-0000-0000-0000-000000000000,teams,{month},1,2\n"
    )
    sign_in(page, live_server, holdings.people["program_admin"])
    page.get_by_role("link", name="Import usage").click()
    page.get_by_label("Usage file (CSV or Parquet)").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("3 rows read, 1 written, 2 rejected.")).to_be_visible()
    expect(page.get_by_role("cell", name="unknown tenant")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "usage-import")
