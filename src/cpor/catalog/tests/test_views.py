"""The program admin's catalog pages."""

import pytest
from django.urls import reverse

from cpor.accounts.models import OperatorRole
from cpor.catalog import services
from cpor.catalog.models import Engagement, OutOfScopeProgram, Product, ProgramSettings
from cpor.errors import DomainError
from cpor.testing.factories import operator_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(operator_user(OperatorRole.PROGRAM_ADMIN))
    return client


def engagement_data(engagement: Engagement, **changes) -> dict:
    data = {
        "name": engagement.name,
        "incentivized": "on" if engagement.incentivized else "",
        "allowed_channels": engagement.allowed_channels,
        "opt_out_allowed": "on" if engagement.opt_out_allowed else "",
        "requires_revenue_details": "on" if engagement.requires_revenue_details else "",
        "notice_period_days": engagement.notice_period_days,
        "poe_max_age_days": engagement.poe_max_age_days,
        "active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_catalog_page_lists_engagements_products_programs_and_settings(admin_client):
    response = admin_client.get(reverse("review:catalog"))
    assert response.status_code == 200
    for engagement in Engagement.objects.all():
        assert engagement.name.encode() in response.content
    assert b"Dynamics 365 Sales" in response.content
    assert OutOfScopeProgram.objects.first().name.encode() in response.content


def test_admin_changes_notice_period_poe_age_and_channels(admin_client):
    engagement = Engagement.objects.get(code="mci_bizapps_presales_advisor")
    response = admin_client.post(
        reverse("review:engagement_edit", args=[engagement.pk]),
        engagement_data(
            engagement, notice_period_days=0, poe_max_age_days=180, allowed_channels=["web_direct"]
        ),
    )
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.notice_period_days == 0
    assert engagement.poe_max_age_days == 180
    assert engagement.allowed_channels == ["web_direct"]


def test_out_of_range_values_are_refused_with_the_field_named(admin_client):
    engagement = Engagement.objects.get(code="modern_work_security_usage")
    response = admin_client.post(
        reverse("review:engagement_edit", args=[engagement.pk]),
        engagement_data(engagement, poe_max_age_days=0, notice_period_days=900),
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"poe_max_age_days", "notice_period_days"}
    engagement.refresh_from_db()
    assert engagement.poe_max_age_days == 365


def test_admin_changes_the_poe_size_limit_and_targets(admin_client):
    data = {
        "poe_max_bytes": 5 * 1024 * 1024,
        "draft_expiry_days": 60,
        "info_request_business_days": 4,
        "pickup_target_business_days": 2,
        "decision_target_business_days": 3,
        "dispute_window_days": 30,
    }
    response = admin_client.post(reverse("review:settings_edit"), data)
    assert response.status_code == 302
    settings = ProgramSettings.load()
    assert settings.poe_max_bytes == 5 * 1024 * 1024
    assert settings.pickup_target_business_days == 2
    too_big = admin_client.post(reverse("review:settings_edit"), {**data, "poe_max_bytes": 10**9})
    assert too_big.status_code == 400
    assert ProgramSettings.load().poe_max_bytes == 5 * 1024 * 1024


def test_admin_adds_and_deactivates_a_workload(admin_client):
    from cpor.catalog.models import SolutionArea

    area = SolutionArea.objects.get(code="modern_work_security")
    response = admin_client.post(
        reverse("review:product_new"),
        {
            "code": "viva_insights",
            "name": "Viva Insights",
            "solution_area": area.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(code="viva_insights")
    response = admin_client.post(
        reverse("review:product_edit", args=[product.pk]),
        {"code": "viva_insights", "name": "Viva Insights", "solution_area": area.pk},
    )
    product.refresh_from_db()
    assert product.active is False
    duplicate = admin_client.post(
        reverse("review:product_new"),
        {"code": "teams", "name": "Teams again", "solution_area": area.pk},
    )
    assert duplicate.status_code == 400


def test_admin_adds_an_out_of_scope_program(admin_client):
    response = admin_client.post(
        reverse("review:program_new"),
        {"code": "surface_coop", "name": "Surface co-op", "message": "Use the co-op claims tool."},
    )
    assert response.status_code == 302
    assert OutOfScopeProgram.objects.get(code="surface_coop").message.startswith("Use the")


def test_admin_rewrites_a_roles_help_text(admin_client):
    from cpor.catalog.models import PartnerRole

    role = PartnerRole.objects.get(code="use_or_consume")
    response = admin_client.post(
        reverse("review:role_edit", args=[role.pk]),
        {
            "name": role.name,
            "help_text": "Choose it for adoption work.",
            "position": 1,
            "active": "on",
        },
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.help_text == "Choose it for adoption work."
    assert role.engagement.code == "modern_work_security_usage"  # unchanged


def test_services_refuse_anyone_but_a_program_admin():
    engagement = Engagement.objects.first()
    for actor in (operator_user(OperatorRole.REVIEWER), None):
        with pytest.raises(DomainError):
            services.engagement_update(actor=actor, engagement=engagement, values={"name": "X"})
    engagement.refresh_from_db()
    assert engagement.name != "X"
