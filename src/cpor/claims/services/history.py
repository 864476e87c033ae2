"""The history: every transition writes its change and one ``ClaimEvent``."""

import datetime
from collections.abc import Iterable, Sequence

from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.api.webhooks import queue_webhooks_for_event
from cpor.claims.models import (
    Association,
    Claim,
    ClaimEvent,
)
from cpor.errors import DomainError, illegal_transition
from cpor.notifications.notices import claim_event_notify

SYSTEM = "system"


class ValidationFailed(DomainError):
    """Several inputs are wrong at once; the first one gives the code, field and message."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        first = errors[0]
        super().__init__(first.code, first.message, field=first.field)
        self.errors = list(errors)


# ---------------------------------------------------------------------------
# History


def _record(
    claim: Claim,
    *,
    action: str,
    actor: User | None,
    from_status: str = "",
    to_status: str = "",
    message: str = "",
    reason_code: str = "",
    internal: bool = False,
    shared: bool = False,
    association: Association | None = None,
    actor_label: str = "",
    at: datetime.datetime | None = None,
) -> ClaimEvent:
    event = ClaimEvent.objects.create(
        claim=claim,
        association=association,
        action=action,
        from_status=from_status,
        to_status=to_status,
        message=message,
        reason_code=reason_code,
        internal=internal,
        shared=shared,
        actor=actor,
        actor_label=actor_label or ("" if actor else SYSTEM),
        at=at or timezone.now(),
    )
    # Every history event is where notifications start: queued in this same transaction.
    claim_event_notify(event=event)
    queue_webhooks_for_event(event=event)
    return event


def _lock_claim(claim: Claim | int) -> Claim:
    pk = claim.pk if isinstance(claim, Claim) else claim
    return (
        Claim.objects.select_for_update(of=("self",)).select_related("role__engagement").get(pk=pk)
    )


def _move(
    claim: Claim,
    to_status: str,
    *,
    action: str,
    actor: User | None,
    allowed_from: Iterable[str],
    verb: str,
    message: str = "",
    reason_code: str = "",
    actor_label: str = "",
    **changes,
) -> Claim:
    """Change a locked claim's status if it is in ``allowed_from``, with its event."""
    if claim.status not in set(allowed_from):
        raise illegal_transition(_("claim"), verb, claim.get_status_display())
    from_status = claim.status
    now = timezone.now()
    claim.status = to_status
    claim.updated_at = now
    for name, value in changes.items():
        setattr(claim, name, value)
    claim.save(update_fields=["status", "updated_at", *changes])
    _record(
        claim,
        action=action,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        message=message,
        reason_code=reason_code,
        actor_label=actor_label,
        at=now,
    )
    return claim
