"""The automated checks the partner sees before submitting and the reviewer on opening."""

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from cpor.catalog.models import PurchaseChannel
from cpor.claims import services
from cpor.claims.checks import Outcome, run_checks
from cpor.claims.models import Claim
from cpor.claims.services import ValidationFailed
from cpor.claims.services.history import _lock_claim
from cpor.customers.models import Subscription
from cpor.partners.models import PartnerLocation
from cpor.testing.factories import (
    SubscriptionFactory,
    TenantDomainFactory,
    add_poe,
    claim_input,
    partner_user,
    submitted_claim,
)

pytestmark = pytest.mark.django_db


def outcomes(claim: Claim) -> dict[str, str]:
    """The worst outcome per check code."""
    order = [Outcome.PASS, Outcome.WARNING, Outcome.FAIL]
    worst: dict[str, str] = {}
    for result in run_checks(claim):
        if order.index(result.outcome) >= order.index(worst.get(result.code, Outcome.PASS)):
            worst[result.code] = result.outcome
    return worst


def draft(partner, tenant, **kwargs):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant, **kwargs))
    add_poe(partner, claim)
    return claim


def test_a_good_claim_passes_every_check_but_the_licence_warning(partner, tenant):
    claim = draft(partner, tenant)
    result = outcomes(claim)
    assert set(result) == {
        "partner_id",
        "tenant",
        "role",
        "unit",
        "required_fields",
        "poe",
        "contact_domain",
        "open_claim",
        "already_held",
        "conflict",
    }
    # The demo tenant has no Teams licence recorded: a warning, not a block.
    assert result.pop("unit") == Outcome.WARNING
    assert set(result.values()) == {Outcome.PASS}


def test_licensed_workload_passes(partner, tenant):
    from cpor.catalog.models import Product

    SubscriptionFactory(
        tenant=tenant,
        product=Product.objects.get(code="teams"),
        purchase_channel=PurchaseChannel.CSP,
    )
    assert outcomes(draft(partner, tenant))["unit"] == Outcome.PASS


def test_inactive_partner_location_fails(partner, tenant):
    claim = draft(partner, tenant)
    PartnerLocation.objects.filter(pk=claim.location_id).update(active=False)
    claim.refresh_from_db()
    assert outcomes(claim)["partner_id"] == Outcome.FAIL


def test_subscription_that_ended_after_drafting_fails(partner, tenant):
    sub = SubscriptionFactory(tenant=tenant)
    claim = draft(partner, tenant, role="build_intent_advisor", subscriptions=[sub])
    Subscription.objects.filter(pk=sub.pk).update(
        ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert outcomes(claim)["unit"] == Outcome.FAIL


def test_unverified_contact_domain_warns(partner, tenant):
    claim = draft(partner, tenant, customer_contact_email="ana@gmail.com")
    assert outcomes(claim)["contact_domain"] == Outcome.WARNING


def test_future_or_too_old_poe_fails(partner, tenant):
    claim = services.claim_create(actor=partner, data=claim_input(partner, tenant))
    add_poe(partner, claim, signed_on=timezone.localdate() - datetime.timedelta(days=366))
    assert outcomes(claim)["poe"] == Outcome.FAIL


def test_conflict_with_another_partner_is_a_warning_that_names_no_partner(
    partner, reviewer, tenant
):
    holder = partner_user()
    services.claim_approve(actor=reviewer, claim=submitted_claim(holder, tenant))
    claim = draft(partner, tenant)
    conflict = [r for r in run_checks(claim) if r.code == "conflict"]
    assert [r.outcome for r in conflict] == [Outcome.WARNING]
    assert holder.partner_membership.organisation.name not in conflict[0].message
    services.claim_submit(actor=partner, claim=claim, confirmed=True)  # a warning never blocks


def test_same_partner_open_claim_fails(partner, tenant):
    submitted_claim(partner, tenant)
    assert outcomes(draft(partner, tenant))["open_claim"] == Outcome.FAIL


def test_a_tenant_the_directory_cannot_reach_fails(partner, tenant):
    claim = draft(partner, tenant)
    assert outcomes(claim)["tenant"] == Outcome.PASS
    # An admin contact alone, or a verified domain alone, is enough.
    tenant.domains.all().delete()
    assert outcomes(claim)["tenant"] == Outcome.PASS
    TenantDomainFactory(tenant=tenant, verified=True)
    tenant.admin_contacts.all().delete()
    assert outcomes(claim)["tenant"] == Outcome.PASS
    # Neither: nobody could be told of the claim or decline it.
    tenant.domains.update(verified=False)
    failed = [result for result in run_checks(claim) if result.code == "tenant"]
    assert [(r.outcome, r.field) for r in failed] == [(Outcome.FAIL, "tenant_id")]
    assert str(tenant.tenant_id) in failed[0].message
    with pytest.raises(ValidationFailed) as refused:
        services.claim_submit(actor=partner, claim=claim, confirmed=True)
    assert "check_tenant" in {error.code for error in refused.value.errors}


def test_every_check_is_one_query_once_the_claim_is_loaded(partner, reviewer, tenant):
    services.claim_approve(actor=reviewer, claim=submitted_claim(partner_user(), tenant))
    claim = draft(partner, tenant, products=["teams", "intune", "onedrive"])
    with transaction.atomic():
        locked = _lock_claim(claim)
        with CaptureQueriesContext(connection) as captured:
            results = run_checks(locked)
    assert len(captured) == 1
    assert {r.code for r in results if r.outcome == Outcome.WARNING} == {"unit", "conflict"}


def test_the_checks_answer_as_before_for_each_kind_of_result(partner, reviewer, tenant):
    """The messages the partner reads, one claim per outcome the flags decide."""
    holder = partner_user()
    services.claim_approve(actor=reviewer, claim=submitted_claim(holder, tenant))
    other = submitted_claim(partner, tenant, products=["intune"])
    claim = services.claim_create(
        actor=partner, data=claim_input(partner, tenant, products=["teams", "intune"])
    )
    signed = timezone.localdate() - datetime.timedelta(days=3)
    add_poe(partner, claim, signed_on=signed)
    messages = {(r.code, r.outcome): r.message for r in run_checks(claim)}
    assert messages[("poe", Outcome.PASS)] == (
        f"PoE signed by the customer on {date_format(signed)}."
    )
    assert messages[("open_claim", Outcome.FAIL)] == (
        f"Your claim “{other.name}” already asks for Microsoft Intune."
    )
    assert messages[("conflict", Outcome.WARNING)] == (
        "Another partner holds Microsoft Teams: the claim with the most recent valid PoE wins."
    )
    # The ID only: a partner without a relationship never reads the tenant's name.
    assert messages[("tenant", Outcome.PASS)] == f"Tenant {tenant.tenant_id} exists."


def test_claiming_again_a_unit_the_organisation_holds_fails_before_submission(reviewer):
    from cpor.claims import services
    from cpor.claims.models import ClaimStatus
    from cpor.claims.services import ValidationFailed
    from cpor.testing.factories import add_poe, claim_input, customer_tenant, partner_user
    from cpor.testing.factories import submitted_claim as submitted

    partner, tenant = partner_user(), customer_tenant()
    held = submitted(partner, tenant, products=["teams"])
    services.claim_approve(actor=reviewer, claim=held)
    again = services.claim_create(
        actor=partner, data=claim_input(partner, tenant, products=["teams", "intune"])
    )
    add_poe(partner, again)
    results = {r.code: r for r in run_checks(again)}
    assert results["already_held"].failed
    assert "Microsoft Teams" in results["already_held"].message
    with pytest.raises(ValidationFailed) as refused:
        services.claim_submit(actor=partner, claim=again, confirmed=True)
    assert "check_already_held" in {e.code for e in refused.value.errors}
    again.refresh_from_db()
    assert again.status == ClaimStatus.DRAFT
    assert not again.events.filter(action="submit").exists()  # the customer is not e-mailed


def test_a_reviewer_closes_a_duplicate_without_touching_the_holder(reviewer):
    from cpor.claims import services
    from cpor.claims.models import ClaimStatus
    from cpor.claims.reasons import RejectionReason
    from cpor.testing.factories import customer_tenant, partner_user
    from cpor.testing.factories import submitted_claim as submitted

    partner, tenant = partner_user(), customer_tenant()
    held = submitted(partner, tenant, products=["teams"])
    duplicate = submitted(partner, customer_tenant(), products=["teams"])
    services.claim_approve(actor=reviewer, claim=held)
    services.claim_reject(
        actor=reviewer, claim=duplicate, reason_code=RejectionReason.DUPLICATE_ASSOCIATION
    )
    duplicate.refresh_from_db()
    assert duplicate.status == ClaimStatus.REJECTED
    assert duplicate.events.get(action="reject").reason_code == "duplicate_association"
    assert held.associations.get().is_held
