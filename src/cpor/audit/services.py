"""The one writer of the audit trail.

Services call ``audit_record`` inside their own transaction, beside the change it
describes, so a change and its audit row commit or roll back together (Zulip's
"every action writes its own audit row")."""

from typing import Any

from django.db import models

from cpor.accounts.models import User
from cpor.audit.models import AuditAction, AuditEntry
from cpor.partners.models import PartnerOrganisation


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    organisation: PartnerOrganisation | int | None = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_email: str = "",
) -> AuditEntry:
    """Append one row: who (``actor``), what (``action`` on ``target``), in which
    organisation, and the values before and after the change. ``actor_email`` names who
    it was when there is no user (the address a failed sign-in tried)."""
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)
    authenticated = actor is not None and actor.is_authenticated
    return AuditEntry.objects.create(
        actor=actor if authenticated else None,
        actor_email=actor.email if authenticated else actor_email[:254],
        organisation_id=(
            organisation.pk if isinstance(organisation, PartnerOrganisation) else organisation
        ),
        action=action,
        target_type=target_type[:40],
        target_id=str(target_id)[:64],
        target_label=str(target_label)[:300],
        before=before,
        after=after,
        ip=ip or None,
    )
