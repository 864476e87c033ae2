"""Reads of the audit trail, scoped to the caller: a partner admin reads their own
organisation's rows; reviewers and program admins read every row."""

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.audit.models import AuditEntry
from cpor.errors import PermissionDenied
from cpor.partners.models import Membership, PartnerRoleName

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor: str | None = None  # part of the actor's e-mail
    organisation: int | None = None  # program staff only: partners read their own
    since: datetime.date | None = None
    until: datetime.date | None = None
    before_id: int | None = None  # keyset: rows older than this one


def may_read_audit(actor: User | None) -> bool:
    if actor is None or not actor.is_authenticated:
        return False
    if actor.is_operator:
        return True
    membership = Membership.objects.filter(user=actor).only("role").first()
    return membership is not None and membership.role == PartnerRoleName.PARTNER_ADMIN


def audit_list(*, actor: User | None, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    """The rows the actor may read, newest first, narrowed by ``filters``."""
    if not may_read_audit(actor):
        raise PermissionDenied(_("Only a partner admin or program staff can read the audit trail."))
    entries = AuditEntry.objects.select_related("organisation")
    if not actor.is_operator:
        entries = entries.filter(organisation_id=actor.partner_membership.organisation_id)
    filters = filters or AuditFilters()
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.actor:
        entries = entries.filter(actor_email__icontains=filters.actor)
    if filters.organisation and actor.is_operator:
        entries = entries.filter(organisation_id=filters.organisation)
    if filters.since:
        entries = entries.filter(at__date__gte=filters.since)
    if filters.until:
        entries = entries.filter(at__date__lte=filters.until)
    if filters.before_id:
        entries = entries.filter(id__lt=filters.before_id)
    return entries.order_by("-id")
