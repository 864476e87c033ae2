"""Writes to the catalog by program admins (the pages under /review/admin/catalog/).

Each takes the acting user and the values a form already parsed, checks the actor is a
program admin, and saves in one transaction. The Django admin stays for the rare rest."""

from django.db import transaction
from django.db.models import Model

from cpor.accounts.models import User
from cpor.catalog.models import (
    Engagement,
    OutOfScopeProgram,
    PartnerRole,
    Product,
    ProgramSettings,
)
from cpor.claims.permissions import require_program_admin

ENGAGEMENT_FIELDS = (
    "name",
    "name_pt",
    "incentivized",
    "allowed_channels",
    "opt_out_allowed",
    "requires_revenue_details",
    "notice_period_days",
    "poe_max_age_days",
    "active",
)
SETTINGS_FIELDS = (
    "poe_max_bytes",
    "draft_expiry_days",
    "info_request_business_days",
    "pickup_target_business_days",
    "decision_target_business_days",
    "dispute_window_days",
)
PRODUCT_FIELDS = ("code", "name", "name_pt", "solution_area", "active")
ROLE_FIELDS = ("name", "name_pt", "help_text", "help_text_pt", "position", "active")
PROGRAM_FIELDS = ("code", "name", "name_pt", "message", "message_pt")


def _save(actor: User, instance: Model, values: dict, allowed: tuple[str, ...]) -> Model:
    require_program_admin(actor)
    with transaction.atomic():
        for name in allowed:
            if name in values:
                setattr(instance, name, values[name])
        instance.full_clean()
        instance.save()
    return instance


def engagement_update(*, actor: User, engagement: Engagement, values: dict) -> Engagement:
    """Notice period, PoE age limit, channels and the other rules of one engagement."""
    return _save(actor, engagement, values, ENGAGEMENT_FIELDS)


def program_settings_update(*, actor: User, values: dict) -> ProgramSettings:
    """PoE size limit, draft expiry, deadlines and review targets."""
    return _save(actor, ProgramSettings.load(), values, SETTINGS_FIELDS)


def partner_role_update(*, actor: User, role: PartnerRole, values: dict) -> PartnerRole:
    """The name and the "when to choose it" help partners read in the wizard."""
    return _save(actor, role, values, ROLE_FIELDS)


def product_save(*, actor: User, product: Product | None, values: dict) -> Product:
    """Create or change a workload / product; deactivate rather than delete."""
    return _save(actor, product or Product(), values, PRODUCT_FIELDS)


def out_of_scope_program_save(
    *, actor: User, program: OutOfScopeProgram | None, values: dict
) -> OutOfScopeProgram:
    return _save(actor, program or OutOfScopeProgram(), values, PROGRAM_FIELDS)
