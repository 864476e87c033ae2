"""The claim forms parse input; the rules they check are the wizard's per-step ones."""

import datetime

import pytest
from django.utils import timezone

from cpor.catalog.models import PurchaseChannel, SolutionArea
from cpor.claims import forms, services
from cpor.errors import DomainError
from cpor.forms import add_domain_error
from cpor.testing.factories import LocationFactory, SubscriptionFactory, role

pytestmark = pytest.mark.django_db


def test_details_offer_only_the_organisations_active_partner_ids(partner, tenant):
    organisation = partner.partner_membership.organisation
    LocationFactory(organisation=organisation, partner_id="9000001", active=False)
    foreign = LocationFactory(partner_id="9000002")
    form = forms.DetailsStepForm(actor=partner, role=role("use_or_consume"))
    offered = [value for value, _label in form.fields["partner_id"].choices]
    assert offered == [organisation.locations.get(active=True).partner_id]
    form = forms.DetailsStepForm(
        {"name": "x", "partner_id": foreign.partner_id, "tenant_id": str(tenant.tenant_id)},
        actor=partner,
        role=role("use_or_consume"),
    )
    assert not form.is_valid() and "partner_id" in form.errors


def test_details_fields_follow_the_role(partner):
    modern = forms.DetailsStepForm(actor=partner, role=role("use_or_consume"))
    assert "incentive_opt_out" in modern.fields and "seller_name" not in modern.fields
    revenue = forms.DetailsStepForm(actor=partner, role=role("influenced_revenue"))
    assert "incentive_opt_out" not in revenue.fields
    assert {"seller_name", "customer_name", "isv_solution_name"} <= set(revenue.fields)


def test_details_normalise_the_tenant_guid(partner, tenant):
    location = partner.partner_membership.organisation.locations.get()
    form = forms.DetailsStepForm(
        {
            "name": "x",
            "partner_id": location.partner_id,
            "tenant_id": f"  {str(tenant.tenant_id).upper()} ",
        },
        actor=partner,
        role=role("use_or_consume"),
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tenant_id"] == str(tenant.tenant_id)


def test_units_offer_workloads_of_the_roles_area_only(tenant):
    form = forms.UnitsStepForm(role=role("use_or_consume"), tenant=tenant)
    codes = {code for code, _name in form.fields["products"].choices}
    assert "teams" in codes and "d365_sales" not in codes
    assert form.by_workload


def test_units_offer_only_eligible_subscriptions(tenant):
    eligible = SubscriptionFactory(tenant=tenant)
    SubscriptionFactory(tenant=tenant, purchase_channel=PurchaseChannel.CSP)
    SubscriptionFactory(tenant=tenant, starts_on=timezone.localdate() + datetime.timedelta(days=3))
    form = forms.UnitsStepForm(role=role("build_intent_advisor"), tenant=tenant)
    assert [value for value, _ in form.fields["subscription_ids"].choices] == [
        str(eligible.subscription_id)
    ]
    reasons = sorted(choice.reason[:6] for choice in form.subscription_choices)
    assert reasons == ["", "Bought", "Starts"]


def test_area_step_knows_the_two_solution_areas():
    form = forms.AreaStepForm({"solution_area": "nonsense"})
    assert not form.is_valid()
    codes = [area.code for area in form.fields["solution_area"].queryset]
    assert codes == list(SolutionArea.objects.values_list("code", flat=True))


def test_domain_errors_land_on_their_fields():
    form = forms.ContactsStepForm({})
    form.is_valid()
    failed = services.ValidationFailed(
        [
            DomainError("x", "Bad e-mail", field="customer_contact_email"),
            DomainError("y", "Frozen", field="status"),
        ]
    )
    add_domain_error(form, failed)
    assert "Bad e-mail" in form.errors["customer_contact_email"]
    assert "Frozen" in form.non_field_errors()
