"""Customer declines and the ends of associations."""

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.claims.models import (
    HELD_STATUSES,
    OPEN_STATUSES,
    Association,
    AssociationStatus,
    Claim,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
)
from cpor.claims.permissions import (
    require_claim_manager,
    require_program_admin,
)
from cpor.claims.reasons import RejectionReason
from cpor.claims.services.history import _lock_claim, _move, _record
from cpor.errors import DomainError, illegal_transition


@transaction.atomic
def claim_decline_lines(
    *,
    claim: Claim,
    line_ids: Sequence[int] | None = None,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
) -> Claim:
    """The customer declines lines of a claim still under review.

    Declining what is already declined is harmless; when no line is left to decide,
    the claim becomes Declined."""
    claim = _lock_claim(claim)
    if claim.status not in OPEN_STATUSES:
        raise illegal_transition(_("claim"), _("declined"), claim.get_status_display())
    lines = claim.lines.filter(status=LineStatus.PENDING)
    if line_ids is not None:
        lines = lines.filter(pk__in=line_ids)
    declined = lines.update(status=LineStatus.DECLINED)
    if not declined:
        return claim
    if claim.lines.exclude(status=LineStatus.DECLINED).exists():
        _record(
            claim,
            action=EventAction.DECLINE,
            actor=actor,
            actor_label=actor_label,
            from_status=claim.status,
            to_status=claim.status,
            message=reason.strip(),
        )
        return claim
    return _move(
        claim,
        ClaimStatus.DECLINED,
        action=EventAction.DECLINE,
        actor=actor,
        actor_label=actor_label,
        allowed_from=OPEN_STATUSES,
        verb=_("declined"),
        message=reason.strip(),
        reason_code=RejectionReason.CUSTOMER_DECLINED,
        decided_at=timezone.now(),
    )


# ---------------------------------------------------------------------------
# Associations


def _end(
    association: Association,
    *,
    reason: str,
    actor: User | None,
    now: datetime.datetime,
    message: str = "",
    actor_label: str = "",
) -> Association:
    """End a held association with a conditional write, so two racing enders end it once."""
    ended = Association.objects.filter(pk=association.pk, status__in=HELD_STATUSES).update(
        status=AssociationStatus.ENDED, end_reason=reason, end_message=message, ended_at=now
    )
    if not ended:
        association.refresh_from_db()
        raise illegal_transition(_("association"), _("ended"), association.get_status_display())
    from_status = association.status
    association.status = AssociationStatus.ENDED
    association.end_reason = reason
    association.end_message = message
    association.ended_at = now
    _record(
        association.claim,
        action=EventAction.END,
        actor=actor,
        actor_label=actor_label,
        association=association,
        from_status=from_status,
        to_status=AssociationStatus.ENDED,
        reason_code=reason,
        message=message,
        at=now,
    )
    return association


def _lock_association(association: Association | int) -> Association:
    pk = association.pk if isinstance(association, Association) else association
    return (
        Association.objects.select_for_update(of=("self",))
        .select_related("claim", "product", "subscription", "tenant")
        .get(pk=pk)
    )


@transaction.atomic
def association_decline(
    *,
    association: Association,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
) -> Association:
    """The customer declines an association, pending or active, at any time.

    Declining one the customer already declined changes nothing."""
    association = _lock_association(association)
    if association.end_reason == EndReason.DECLINED_BY_CUSTOMER:
        return association
    if not association.is_held:
        raise DomainError(
            "association_not_held",
            _("This association already ended; there is nothing to decline."),
            field="association",
        )
    return _end(
        association,
        reason=EndReason.DECLINED_BY_CUSTOMER,
        actor=actor,
        actor_label=actor_label,
        now=timezone.now(),
        message=reason.strip(),
    )


@transaction.atomic
def association_withdraw(*, actor: User, association: Association, reason: str) -> Association:
    """The partner disassociates itself; a reason is mandatory."""
    association = _lock_association(association)
    require_claim_manager(actor, association.organisation)
    if not reason.strip():
        raise DomainError("required", _("Say why you disassociate."), field="reason")
    if not association.is_held:
        raise illegal_transition(_("association"), _("withdrawn"), association.get_status_display())
    return _end(
        association,
        reason=EndReason.WITHDRAWN,
        actor=actor,
        now=timezone.now(),
        message=reason.strip(),
    )


@transaction.atomic
def association_revoke(*, actor: User, association: Association, reason: str) -> Association:
    require_program_admin(actor)
    association = _lock_association(association)
    if not reason.strip():
        raise DomainError("required", _("Say why the association is revoked."), field="reason")
    if not association.is_held:
        raise illegal_transition(_("association"), _("revoked"), association.get_status_display())
    return _end(
        association,
        reason=EndReason.REVOKED,
        actor=actor,
        now=timezone.now(),
        message=reason.strip(),
    )
