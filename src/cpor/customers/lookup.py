"""Tenant look-ups by partner users (the claim wizard, the API): counted, limited, and
audited when they look like enumeration.

Each user and each partner organisation may look up a limited number of *distinct*
tenants per window (settings ``TENANT_LOOKUP_*``); looking the same tenant up again costs
nothing, so the wizard's steps and the final create count once. A look-up of an unknown
tenant, and the first look-up over a limit in a window, are written to the audit trail.
The rows are written outside any refusing transaction, so a refusal keeps its trace."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cpor.accounts.models import User
from cpor.audit.models import AuditAction
from cpor.audit.services import audit_record
from cpor.customers.models import Subscription, Tenant
from cpor.customers.relationships import has_relationship
from cpor.errors import DomainError, PermissionDenied
from cpor.partners.models import Membership
from cpor.ratelimit import hit


@dataclass(frozen=True)
class TenantLookup:
    """A tenant as a partner may see it: its name and subscriptions only with a
    relationship (``related``)."""

    tenant: Tenant
    related: bool

    @property
    def name(self) -> str | None:
        return self.tenant.name if self.related else None


class LookupLimited(DomainError):
    """Too many distinct tenants looked up in the window (HTTP 429)."""


def _membership(actor: User | None) -> Membership:
    membership = None
    if actor is not None and actor.is_authenticated:
        membership = Membership.objects.filter(user=actor).first()
    if membership is None:
        raise PermissionDenied(_("Only partner users look up customer tenants."))
    return membership


def _limit_message(limit: int, per: str) -> str:
    hours = max(1, settings.TENANT_LOOKUP_WINDOW_SECONDS // 3600)
    if per == "user":
        text = ngettext(
            "You looked up %(limit)d customer tenants within %(hours)d hour, the limit per "
            "user. Try again later.",
            "You looked up %(limit)d customer tenants within %(hours)d hours, the limit per "
            "user. Try again later.",
            hours,
        )
    else:
        text = ngettext(
            "Your organisation looked up %(limit)d customer tenants within %(hours)d hour, "
            "the limit per organisation. Try again later.",
            "Your organisation looked up %(limit)d customer tenants within %(hours)d hours, "
            "the limit per organisation. Try again later.",
            hours,
        )
    return text % {"limit": limit, "hours": hours}


def count_lookup(*, actor: User, organisation_id: int, guid: uuid.UUID) -> None:
    """Count a look-up of a tenant not yet looked up in this window (the cache only, no
    query); refuse over a limit, auditing the first refusal of the window."""
    window = settings.TENANT_LOOKUP_WINDOW_SECONDS
    seen = f"{actor.pk}:{guid}"
    if hit("tenant-lookup-seen", seen, window_seconds=window, count=False):
        return
    limits = (
        ("user", str(actor.pk), settings.TENANT_LOOKUP_LIMIT_PER_USER),
        ("organisation", str(organisation_id), settings.TENANT_LOOKUP_LIMIT_PER_ORGANISATION),
    )
    for per, key, limit in limits:
        count = hit(f"tenant-lookup-{per}", key, window_seconds=window)
        if count > limit:
            if count == limit + 1:  # the first refusal in the window: enough to see it
                audit_record(
                    actor=actor,
                    action=AuditAction.TENANT_LOOKUP_LIMITED,
                    organisation=organisation_id,
                    target_type="tenant",
                    target_id=str(guid),
                    target_label=str(guid),
                    after={"limit": limit, "per": per, "window_seconds": window},
                )
            raise LookupLimited(
                "tenant_lookup_limited", _limit_message(limit, per), field="tenant_id"
            )
    hit("tenant-lookup-seen", seen, window_seconds=window)


def record_unknown_tenant(*, actor: User, organisation_id: int, guid: uuid.UUID) -> None:
    """An enumeration attempt: a partner user named a tenant the program does not know."""
    audit_record(
        actor=actor,
        action=AuditAction.TENANT_LOOKUP_UNKNOWN,
        organisation=organisation_id,
        target_type="tenant",
        target_id=str(guid),
        target_label=str(guid),
    )


def parse_tenant_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw).strip())
    except ValueError:
        raise DomainError(
            "invalid_guid",
            _("“%(value)s” is not a GUID (like 72f988bf-86f1-41af-91ab-2d7cd011db47).")
            % {"value": str(raw).strip()[:64]},
            field="tenant_id",
        ) from None


def tenant_lookup(*, actor: User, tenant_id: str | uuid.UUID) -> TenantLookup:
    """The tenant with this directory ID as the actor's organisation may see it.

    Refuses a malformed ID, an unknown tenant (``unknown_tenant``) and a look-up over a
    limit (``tenant_lookup_limited``)."""
    membership = _membership(actor)
    guid = tenant_id if isinstance(tenant_id, uuid.UUID) else parse_tenant_id(tenant_id)
    count_lookup(actor=actor, organisation_id=membership.organisation_id, guid=guid)
    tenant = Tenant.objects.filter(tenant_id=guid).first()
    if tenant is None:
        record_unknown_tenant(actor=actor, organisation_id=membership.organisation_id, guid=guid)
        raise DomainError(
            "unknown_tenant",
            _("No customer tenant has the ID %s. Check the customer's directory ID.") % guid,
            field="tenant_id",
        )
    related = has_relationship(organisation_id=membership.organisation_id, tenant=tenant)
    return TenantLookup(tenant=tenant, related=related)


def tenant_subscriptions_typed(*, tenant: Tenant, subscription_ids) -> tuple[list, list[str]]:
    """The tenant's subscriptions among the IDs a partner typed, in the order typed, and
    the IDs that are not the tenant's (malformed, unknown or another tenant's: one message
    for all, so nothing is learnt about other tenants)."""
    typed, wrong = [], []
    for raw in subscription_ids:
        try:
            typed.append(uuid.UUID(str(raw).strip()))
        except ValueError:
            wrong.append(str(raw).strip()[:64])
    typed = list(dict.fromkeys(typed))
    found = {
        s.subscription_id: s
        for s in Subscription.objects.select_related("product").filter(
            tenant=tenant, subscription_id__in=typed
        )
    }
    wrong += [str(guid) for guid in typed if guid not in found]
    return [found[guid] for guid in typed if guid in found], wrong
