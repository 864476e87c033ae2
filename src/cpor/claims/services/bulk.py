"""Bulk decisions on the review queue: one action with one reason for many claims.

Atomic per claim, never across claims: each claim runs the ordinary transition in its
own transaction (a savepoint when the caller already holds one, as an idempotent API
request does), so a claim that is refused (its unit held, decided by someone else a
moment ago, not visible to the caller) rolls back alone and the others go on. Claims
are taken in id order, so two bulk requests over overlapping claims wait for each other
instead of deadlocking. Every claim gets an outcome in the answer.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.accounts.models import User
from cpor.claims.models import Claim
from cpor.claims.permissions import require_reviewer
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.services.history import claim_in_scope
from cpor.claims.services.review import (
    claim_approve,
    claim_reject,
    claim_request_info,
    claim_start_review,
)
from cpor.errors import DomainError

MAX_BULK_CLAIMS = 100

BULK_ACTIONS = {
    "start_review": gettext_lazy("Start review"),
    "request_info": gettext_lazy("Request information"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
}


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one claim: ``ok`` with its new status, or the refusal."""

    claim_id: int
    ok: bool
    status: str = ""
    code: str = ""
    message: str = ""
    field: str | None = None

    def as_dict(self) -> dict:
        return {
            "claim": self.claim_id,
            "ok": self.ok,
            "status": self.status,
            "code": self.code,
            "message": str(self.message),
            "field": self.field,
        }


def _validate(action: str, claim_ids: Sequence[int], reason_code: str, message: str) -> list[int]:
    """The request as a whole: refused before any claim is touched."""
    if action not in BULK_ACTIONS:
        raise DomainError("unknown_action", _("Choose an action from the list."), field="action")
    ids = list(dict.fromkeys(int(pk) for pk in claim_ids))
    if not ids:
        raise DomainError("required", _("Choose at least one claim."), field="claims")
    if len(ids) > MAX_BULK_CLAIMS:
        raise DomainError(
            "too_many_claims",
            _("Choose at most %d claims at once.") % MAX_BULK_CLAIMS,
            field="claims",
        )
    if action == "request_info":
        if reason_code not in InfoRequestReason.values:
            raise DomainError(
                "unknown_reason", _("Choose a reason from the list."), field="reason_code"
            )
        if not message.strip():
            raise DomainError("required", _("Tell the partners what is needed."), field="message")
    if action == "reject" and reason_code not in RejectionReason.values:
        raise DomainError(
            "unknown_reason", _("Choose a reason from the list."), field="reason_code"
        )
    return sorted(ids)


def claims_bulk_decide(
    *,
    actor: User,
    action: str,
    claim_ids: Sequence[int],
    reason_code: str = "",
    message: str = "",
) -> list[BulkOutcome]:
    """Apply ``action`` (start_review, request_info, approve, reject) to each claim.

    The same reason code and message for every claim (approvals take a message only).
    Returns one outcome per distinct claim, in id order."""
    require_reviewer(actor)
    ids = _validate(action, claim_ids, reason_code, message)
    outcomes = []
    for pk in ids:
        claim = claim_in_scope(pk, actor=actor)
        try:
            with transaction.atomic():
                done = _apply(action, actor=actor, claim=claim, reason=reason_code, text=message)
        except Claim.DoesNotExist:
            outcomes.append(
                BulkOutcome(
                    pk, False, code="not_found", message=_("No such claim."), field="claims"
                )
            )
        except DomainError as error:
            outcomes.append(
                BulkOutcome(pk, False, code=error.code, message=error.message, field=error.field)
            )
        else:
            outcomes.append(BulkOutcome(pk, True, status=done.status))
    return outcomes


def _apply(action: str, *, actor: User, claim: Claim, reason: str, text: str) -> Claim:
    if action == "start_review":
        return claim_start_review(actor=actor, claim=claim)
    if action == "request_info":
        return claim_request_info(actor=actor, claim=claim, reason_code=reason, message=text)
    if action == "approve":
        return claim_approve(actor=actor, claim=claim, message=text)
    return claim_reject(actor=actor, claim=claim, reason_code=reason, message=text)
