"""The reviewer's transitions: review, request information, reject, approve, notes."""

import datetime
from collections.abc import Sequence

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cpor import rowwrite
from cpor.accounts.models import User
from cpor.catalog.models import ProgramSettings
from cpor.claims.business_days import add_business_days
from cpor.claims.models import (
    AWAITING_DECISION,
    HELD_STATUSES,
    Association,
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    EndReason,
    EventAction,
    LineStatus,
)
from cpor.claims.permissions import (
    require_reviewer,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.selectors import latest_poe_date, unit_sql
from cpor.claims.services.association import _end
from cpor.claims.services.history import _lock_claim, _move, _record
from cpor.errors import DomainError, illegal_transition
from cpor.rowload import RowLoader, placeholders


@transaction.atomic
def claim_start_review(*, actor: User, claim: Claim) -> Claim:
    """Submitted or Disputed → In review, assigned to the reviewer."""
    require_reviewer(actor)
    claim = _lock_claim(claim)
    return _move(
        claim,
        ClaimStatus.IN_REVIEW,
        action=EventAction.START_REVIEW,
        actor=actor,
        allowed_from=[ClaimStatus.SUBMITTED, ClaimStatus.DISPUTED],
        verb=_("taken into review"),
        assigned_reviewer=actor,
    )


@transaction.atomic
def claim_request_info(*, actor: User, claim: Claim, reason_code: str, message: str) -> Claim:
    require_reviewer(actor)
    claim = _lock_claim(claim)
    if reason_code not in InfoRequestReason.values:
        raise DomainError(
            "unknown_reason", _("Choose a reason from the list."), field="reason_code"
        )
    if not message.strip():
        raise DomainError("required", _("Tell the partner what is needed."), field="message")
    days = ProgramSettings.load().info_request_business_days
    return _move(
        claim,
        ClaimStatus.ACTION_REQUIRED,
        action=EventAction.REQUEST_INFO,
        actor=actor,
        allowed_from=AWAITING_DECISION,
        verb=_("sent back for information"),
        message=message.strip(),
        reason_code=reason_code,
        info_requested_until=add_business_days(timezone.now(), days),
        assigned_reviewer=claim.assigned_reviewer or actor,
    )


REJECTABLE = AWAITING_DECISION | {ClaimStatus.ACTION_REQUIRED}


@transaction.atomic
def claim_reject(*, actor: User, claim: Claim, reason_code: str, message: str = "") -> Claim:
    """A decision against the claim: every pending line is rejected."""
    require_reviewer(actor)
    if reason_code not in RejectionReason.values:
        raise DomainError(
            "unknown_reason", _("Choose a reason from the list."), field="reason_code"
        )
    return _reject(_lock_claim(claim), actor=actor, reason_code=reason_code, message=message)


def _reject(claim: Claim, *, actor: User | None, reason_code: str, message: str) -> Claim:
    if claim.status not in REJECTABLE:
        raise illegal_transition(_("claim"), _("rejected"), claim.get_status_display())
    claim.lines.filter(status=LineStatus.PENDING).update(status=LineStatus.REJECTED)
    return _move(
        claim,
        ClaimStatus.REJECTED,
        action=EventAction.REJECT,
        actor=actor,
        allowed_from=REJECTABLE,
        verb=_("rejected"),
        message=message.strip(),
        reason_code=reason_code,
        decided_at=timezone.now(),
        info_requested_until=None,
    )


@transaction.atomic
def claim_approve(
    *,
    actor: User,
    claim: Claim,
    line_ids: Sequence[int] | None = None,
    message: str = "",
) -> Claim:
    """Approve the whole claim, or only ``line_ids`` (the rest are not approved).

    Each approved line becomes an association. Where another partner holds the unit
    with older PoE, that association ends as superseded in this same transaction; where
    the holder's PoE is as recent or newer, the approval is refused. The unique index
    on held associations settles concurrent approvals: the loser's transaction rolls
    back whole with ``unit_held``.
    """
    require_reviewer(actor)
    claim = _lock_claim(claim)
    if claim.status not in AWAITING_DECISION:
        raise illegal_transition(_("claim"), _("approved"), claim.get_status_display())
    lines = list(claim.lines.all())  # loaded with the lock
    pending = {line.pk: line for line in lines if line.status == LineStatus.PENDING}
    if not pending:
        raise DomainError(
            "no_pending_lines", _("Every line of this claim was declined."), field="line_ids"
        )
    if line_ids is None:
        chosen = list(pending.values())
    else:
        unknown = [pk for pk in line_ids if pk not in pending]
        if unknown or not line_ids:
            raise DomainError(
                "unknown_line",
                _("Choose lines of this claim that await a decision."),
                field="line_ids",
            )
        chosen = [pending[pk] for pk in dict.fromkeys(line_ids)]

    now = timezone.now()
    engagement = claim.role.engagement
    newcomer_poe = _NewcomerPoE(claim)
    for line in chosen:
        _associate(
            claim=claim,
            line=line,
            actor=actor,
            now=now,
            notice_days=engagement.notice_period_days,
            newcomer_poe=newcomer_poe,
        )
    chosen_ids = {line.pk for line in chosen}
    _decide_lines(pending, chosen_ids)
    # Partial when a line is left out now, or was declined or rejected before.
    partial = any(
        line.pk not in chosen_ids and line.status != LineStatus.APPROVED for line in lines
    )
    return _move(
        claim,
        ClaimStatus.PARTIALLY_APPROVED if partial else ClaimStatus.APPROVED,
        action=EventAction.APPROVE,
        actor=actor,
        allowed_from=AWAITING_DECISION,
        verb=_("approved"),
        message=message.strip(),
        decided_at=now,
    )


def _decide_lines(pending: dict[int, ClaimLine], approved: set[int]) -> None:
    """Approve the ``approved`` lines and reject the other pending ones: one statement,
    and the same statuses on the lines in memory, which the answer shows."""
    qn = connection.ops.quote_name
    ids, chosen = list(pending), [pk for pk in pending if pk in approved]
    meta = ClaimLine._meta
    pk, status = qn(meta.pk.column), qn(meta.get_field("status").column)
    # Names from the model's metadata; the ids and statuses go as parameters.
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {status} = "  # noqa: S608
        f"CASE WHEN {pk} IN ({placeholders(chosen)}) THEN %s ELSE %s END "
        f"WHERE {pk} IN ({placeholders(ids)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*chosen, LineStatus.APPROVED, LineStatus.REJECTED, *ids])
    for line_pk, line in pending.items():
        line.status = LineStatus.APPROVED if line_pk in approved else LineStatus.REJECTED


class _NewcomerPoE:
    """The approved claim's latest PoE date, read only if a holder has to be weighed."""

    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self.read = False
        self.day: datetime.date | None = None

    def get(self) -> datetime.date | None:
        if not self.read:
            self.day, self.read = latest_poe_date(self.claim), True
        return self.day


# Whoever holds a unit now, locked, with their claim (``cpor.rowload``: built once).
_HOLDERS = RowLoader(Association, ("claim",), order=Association._meta.ordering)


def _associate(
    *,
    claim: Claim,
    line: ClaimLine,
    actor: User,
    now: datetime.datetime,
    notice_days: int,
    newcomer_poe: _NewcomerPoE,
) -> Association:
    unit, params = unit_sql(
        tenant_id=claim.tenant_id, product_id=line.product_id, subscription_id=line.subscription_id
    )
    held = f"{unit} AND {{row}}.status IN ({placeholders(HELD_STATUSES)})"
    holders = _HOLDERS.fetch(held, [*params, *map(str, HELD_STATUSES)], lock=True)
    for holder in holders:
        if holder.organisation_id == claim.organisation_id:
            if holder.legacy:
                continue  # re-association: the claim replaces the partner's legacy holding
            raise DomainError(
                "unit_held",
                _("This partner already holds %s.") % line,
                field="line_ids",
            )
        # A legacy association's proof is its association date, unless PoE was added.
        holder_poe = latest_poe_date(holder.claim) or holder.legacy_since
        newcomer = newcomer_poe.get() if holder_poe is not None else None
        if holder_poe is not None and (newcomer is None or holder_poe >= newcomer):
            raise DomainError(
                "unit_held_with_newer_poe",
                _("%(unit)s is held by another partner whose PoE (%(day)s) is as recent or newer.")
                % {"unit": line, "day": date_format(holder_poe)},
                field="line_ids",
            )
    active_now = notice_days == 0
    for holder in holders:
        if holder.organisation_id == claim.organisation_id:
            _end(
                holder,
                reason=EndReason.REASSOCIATED,
                actor=actor,
                now=now,
                message=_("Replaced by the partner's approved claim #%d.") % claim.pk,
            )
            continue
        _end(
            holder,
            reason=EndReason.SUPERSEDED,
            actor=actor,
            now=now,
            message=_("Superseded by a claim with more recent PoE."),
        )
    association = Association(
        claim=claim,
        line=line,
        organisation_id=claim.organisation_id,
        tenant_id=claim.tenant_id,
        product_id=line.product_id,
        subscription_id=line.subscription_id,
        status=AssociationStatus.ACTIVE if active_now else AssociationStatus.PENDING_CUSTOMER,
        approved_at=now,
        notice_ends_at=now + datetime.timedelta(days=notice_days),
        activated_at=now if active_now else None,
    )
    # No savepoint: a unique-index violation aborts the whole approval, which the
    # DomainError raised here rolls back (the service's own atomic block).
    try:
        rowwrite.insert(association)
    except IntegrityError:
        raise DomainError(
            "unit_held",
            _("Another association for %s was approved at the same moment. Reopen the claim.")
            % line,
            field="line_ids",
        ) from None
    if holders:
        Association.objects.filter(pk__in=[h.pk for h in holders]).update(superseded_by=association)
    return association


@transaction.atomic
def claim_add_note(*, actor: User, claim: Claim, message: str, shared: bool = False) -> ClaimEvent:
    """An internal note: partners never see it; other reviewers only when ``shared``."""
    if actor is None or not actor.is_operator:
        raise DomainError("permission_denied", _("Only program staff write internal notes."))
    if not message.strip():
        raise DomainError("required", _("Write the note."), field="message")
    claim = _lock_claim(claim)
    return _record(
        claim,
        action=EventAction.NOTE,
        actor=actor,
        message=message.strip(),
        internal=True,
        shared=shared,
    )
