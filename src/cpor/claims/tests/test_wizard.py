"""The wizard's state: a draft read into it comes back out as the same input."""

import pytest

from cpor.claims import services, wizard
from cpor.testing.factories import SubscriptionFactory, claim_input, role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role_code", ["use_or_consume", "influenced_revenue"])
def test_a_draft_round_trips_through_the_wizard_state(partner, tenant, role_code):
    subscriptions = [SubscriptionFactory(tenant=tenant)] if role_code != "use_or_consume" else []
    data = claim_input(partner, tenant, role=role_code, subscriptions=subscriptions)
    if subscriptions:
        data.products = []
    claim = services.claim_create(actor=partner, data=data)
    state = wizard.data_from_claim(claim)
    resolved = wizard.resolve(state)
    assert wizard.first_missing_step(state, resolved) is None
    again = wizard.claim_input_from(state, role(role_code))
    updated = services.claim_update(actor=partner, claim=claim, data=again)
    assert list(updated.lines.values_list("product_id", "subscription_id")) == list(
        claim.lines.values_list("product_id", "subscription_id")
    )
    assert again.seller_name == data.seller_name and again.name == data.name


def test_a_later_step_needs_the_earlier_ones():
    assert wizard.first_missing_step({}, wizard.resolve({})) == "area"
    state = {"solution_area": "modern_work_security"}
    assert wizard.first_missing_step(state, wizard.resolve(state)) == "role"
    state["role"] = "build_intent_advisor"  # not a role of that area
    assert wizard.first_missing_step(state, wizard.resolve(state)) == "role"
