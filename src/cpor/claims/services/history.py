"""The history: every transition writes its change and one ``ClaimEvent``."""

import datetime
from collections.abc import Iterable, Sequence

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.claims import events
from cpor.claims.models import (
    Association,
    Claim,
    ClaimEvent,
    ClaimLine,
)
from cpor.claims.selectors import claim_list
from cpor.errors import DomainError, illegal_transition

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
    # Nothing else happens here: e-mails, webhooks and decline links are derived from
    # the event after commit by the consumers this wakes.
    events.announce()
    return event


# What a transition, its checks and its answer read from the claim: loaded with the lock.
CLAIM_RELATED = ("organisation", "location", "tenant", "role__solution_area", "role__engagement")


def _lock_claim(claim: Claim | int) -> Claim:
    """Lock the claim's row and load what the transition and its answer need: one query
    for the claim and its relations, one for its lines.

    A claim reference from ``claim_in_scope`` is locked only within what its caller may
    see (``Claim.DoesNotExist`` otherwise: the API's 404), so the API reads the claim once
    per action."""
    pk = claim.pk if isinstance(claim, Claim) else claim
    viewer = getattr(claim, "_scope_actor", None)
    claims = claim_list(actor=viewer) if viewer is not None else Claim.objects.all()
    locked = (
        claims.select_for_update(of=("self",))
        .select_related(*CLAIM_RELATED)
        .prefetch_related(
            Prefetch("lines", queryset=ClaimLine.objects.select_related("product", "subscription"))
        )
        .get(pk=pk)
    )
    # Whether the caller may see the tenant's name, when the claim given knew it: the
    # answer then needs no query to say it (selectors.claim_tenant_related).
    if not hasattr(locked, "tenant_related") and hasattr(claim, "tenant_related"):
        locked.tenant_related = claim.tenant_related
    return locked


def claim_in_scope(pk: int, *, actor: User) -> Claim:
    """A reference to claim ``pk`` that the services lock only if ``actor`` may see it."""
    claim = Claim(pk=pk)
    claim._scope_actor = actor
    return claim


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
