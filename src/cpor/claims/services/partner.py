"""The partner's transitions: submit, reply, withdraw, dispute."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.catalog.models import ProgramSettings
from cpor.claims import checks, events
from cpor.claims.check_flags import stored_check_flags
from cpor.claims.models import (
    OPEN_STATUSES,
    Claim,
    ClaimStatus,
    EventAction,
    LineStatus,
)
from cpor.claims.permissions import (
    require_claim_manager,
)
from cpor.claims.poe_storage import poe_atomic
from cpor.claims.services.assignment import assign_on_entry
from cpor.claims.services.drafting import ClaimInput, claim_create
from cpor.claims.services.history import ValidationFailed, _lock_claim, _move
from cpor.claims.services.proof import _poe_add
from cpor.errors import DomainError, illegal_transition


def _require_checks_pass(claim: Claim) -> dict[str, object]:
    """Refuse with every failing check; otherwise the check flags to store on the claim."""
    results = checks.run_checks(claim)
    failed = checks.failures(results)
    if failed:
        raise ValidationFailed(
            [DomainError(f"check_{f.code}", f.message, field=f.field) for f in failed]
        )
    return stored_check_flags(claim, results)


@transaction.atomic
def claim_submit(*, actor: User, claim: Claim, confirmed: bool, comments: str = "") -> Claim:
    """Draft → Submitted, once every automated check passes and the partner confirms."""
    return _submit(actor=actor, claim=_lock_claim(claim), confirmed=confirmed, comments=comments)


def claim_file(
    *, actor: User, data: ClaimInput, poe: dict, confirmed: bool, comments: str = ""
) -> Claim:
    """Create a claim, store its PoE and submit it, in one transaction (the API's filing
    in one request, for integrators filing in bulk): the rules of the three steps, and
    nothing written, the PoE file included, when one of them is broken."""
    with poe_atomic():
        events.announce()  # one wake-up for the three events
        claim = claim_create(actor=actor, data=data)
        # Created in this transaction, the row is invisible to every other one until it
        # commits: the steps that follow need no lock and no second read of it.
        _poe_add(actor=actor, claim=claim, **poe)
        return _submit(actor=actor, claim=claim, confirmed=confirmed, comments=comments)


def _submit(*, actor: User, claim: Claim, confirmed: bool, comments: str) -> Claim:
    """``claim_submit`` of a claim its caller locked (or created in this transaction)."""
    require_claim_manager(actor, claim.organisation)
    if claim.status != ClaimStatus.DRAFT:
        raise illegal_transition(_("claim"), _("submitted"), claim.get_status_display())
    if not confirmed:
        raise DomainError(
            "confirmation_required",
            _("Confirm that the information is accurate and the customer agreed to it."),
            field="confirmed",
        )
    flags = _require_checks_pass(claim)
    now = timezone.now()
    _move(
        claim,
        ClaimStatus.SUBMITTED,
        action=EventAction.SUBMIT,
        actor=actor,
        allowed_from=[ClaimStatus.DRAFT],
        verb=_("submitted"),
        message=comments.strip(),
        comments=comments.strip(),
        submitted_at=now,
        **flags,
    )
    # Last: the reviewers' rows it locks are the assignment's mutex (services.assignment).
    assign_on_entry(claim, now=now)
    return claim


@transaction.atomic
def claim_reply(*, actor: User, claim: Claim, message: str) -> Claim:
    """Action required → Submitted: the partner answers the reviewer and resubmits."""
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    if claim.status != ClaimStatus.ACTION_REQUIRED:
        raise illegal_transition(_("claim"), _("resubmitted"), claim.get_status_display())
    if not message.strip():
        raise DomainError("required", _("Write a reply to the reviewer."), field="message")
    flags = _require_checks_pass(claim)
    _move(
        claim,
        ClaimStatus.SUBMITTED,
        action=EventAction.REPLY,
        actor=actor,
        allowed_from=[ClaimStatus.ACTION_REQUIRED],
        verb=_("resubmitted"),
        message=message.strip(),
        info_requested_until=None,
        **flags,
    )
    assign_on_entry(claim)  # keeps its reviewer while they are on duty
    return claim


@transaction.atomic
def claim_withdraw(*, actor: User, claim: Claim, message: str = "") -> Claim:
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    return _move(
        claim,
        ClaimStatus.WITHDRAWN,
        action=EventAction.WITHDRAW,
        actor=actor,
        allowed_from=OPEN_STATUSES,
        verb=_("withdrawn"),
        message=message.strip(),
    )


@transaction.atomic
def claim_dispute(*, actor: User, claim: Claim, justification: str) -> Claim:
    """Rejected → Disputed within the dispute window, with a justification or new PoE."""
    claim = _lock_claim(claim)
    require_claim_manager(actor, claim.organisation)
    if claim.status != ClaimStatus.REJECTED:
        raise illegal_transition(_("claim"), _("disputed"), claim.get_status_display())
    window = ProgramSettings.load().dispute_window_days
    if claim.decided_at and timezone.now() > claim.decided_at + datetime.timedelta(days=window):
        raise DomainError(
            "dispute_window_closed",
            _("A rejection can be disputed within %d days of the decision.") % window,
            field="status",
        )
    new_poe = claim.proofs.filter(uploaded_at__gt=claim.decided_at).exists()
    if not justification.strip() and not new_poe:
        raise DomainError(
            "dispute_needs_grounds",
            _("Explain why the rejection is wrong, or add newer PoE."),
            field="justification",
        )
    # The dispute reopens the decision: the lines the rejection closed await it again.
    claim.lines.filter(status=LineStatus.REJECTED).update(status=LineStatus.PENDING)
    _move(
        claim,
        ClaimStatus.DISPUTED,
        action=EventAction.DISPUTE,
        actor=actor,
        allowed_from=[ClaimStatus.REJECTED],
        verb=_("disputed"),
        message=justification.strip(),
        decided_at=None,
        **stored_check_flags(claim),
    )
    assign_on_entry(claim)  # back to the reviewer who decided, while on duty
    return claim
