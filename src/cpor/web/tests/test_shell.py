"""The page shell and its components as pages use them: navigation, breadcrumbs, the
wizard's stepper and summary, lists that become cards on a phone."""

import re

import pytest

from cpor.partners.models import PartnerRoleName
from cpor.testing.factories import partner_user

pytestmark = pytest.mark.django_db


def stepper(body: str) -> list[str]:
    block = re.search(r'<ol class="cpor-stepper".*?</ol>', body, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li.*?</li>", block)]


def test_wizard_stepper_names_the_subscriptions_step_for_business_applications(
    client, seeded_catalog
):
    client.force_login(partner_user(PartnerRoleName.INCENTIVES_ADMIN))
    page = client.get("/claims/new/?area=business_applications", follow=True)
    steps = stepper(page.content.decode())
    assert steps[3] == "Subscriptions"
    assert "Workloads" not in steps
    assert steps[0] == "Solution area (done)"  # the chosen area is behind the partner


def test_wizard_stepper_names_the_workloads_step_for_modern_work(client):
    client.force_login(partner_user(PartnerRoleName.INCENTIVES_ADMIN))
    page = client.get("/claims/new/?area=modern_work_security", follow=True)
    body = page.content.decode()
    assert stepper(body)[3] == "Workloads"
    assert 'aria-current="step"' in body
    # The summary beside the wizard shows the choice made so far.
    summary = re.search(r'<details class="cpor-panel cpor-wizard-summary.*?</details>', body, re.S)
    assert "Modern Work and Security" in summary.group(0)


def test_claim_list_rows_become_cards_with_the_status_first(client):
    from cpor.testing.factories import submitted_claim

    user = partner_user(PartnerRoleName.INCENTIVES_ADMIN)
    submitted_claim(actor=user)
    client.force_login(user)
    body = client.get("/claims/").content.decode()
    assert "table-cards" in body
    assert 'class="cell-status"' in body
    assert 'data-label="Customer tenant"' in body
    # Breadcrumbs come from the shell's component, with the start page first.
    assert re.search(r'aria-label="Breadcrumb".*?href="/">Home</a>.*?Customer claims', body, re.S)
