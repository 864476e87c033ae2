"""Reviewer workload: who reviews each claim (SPEC §10).

**Automatic balancing.** A claim entering the queue (submission; a reply or a dispute
whose reviewer is no longer on duty) goes to the reviewer on duty with the fewest open
claims (assigned and in ``submitted``, ``in_review``, ``disputed`` or
``action_required``); among equals, to the one assigned longest ago (``last_assigned_at``,
never first, then the lowest id). Least load first makes the assignment weighted by open
load; the tie-break makes it round-robin when loads are equal.

**Concurrency.** The choice reads every on-duty reviewer's load and then writes one
assignment, so two submissions choosing at once could both pick the same reviewer. The
assignment therefore locks the ``ReviewerDuty`` rows of the reviewers on duty (in id
order, ``SELECT … FOR UPDATE``) before it counts: concurrent submissions choose one after
the other, and each counts, in a statement run after it got the locks, the assignments
the previous one committed (PostgreSQL's READ COMMITTED takes a fresh snapshot per
statement). SQLite serialises writers anyway. The locks are taken last in the submitting
transaction, after its claim, and every other path that takes both (reassignment) takes
claims first, then duty rows, so the two orders never cross.

**Away.** Marking a reviewer away takes them off duty (their row alone, committed first,
so no new claim can be given to them), then reassigns their open claims among the
reviewers on duty with the same rule, in one transaction: claims locked in id order,
then the duty rows. With nobody on duty the claims are left unassigned, in the queue.

Assignments write an ``assign`` event, internal and shared: reviewers see who took what;
partners are never told.
"""

import datetime
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import BigIntegerField, Case, Count, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import OperatorRole, User
from cpor.claims import events
from cpor.claims.models import (
    OPEN_STATUSES,
    Claim,
    ClaimEvent,
    EventAction,
    ReviewerDuty,
)
from cpor.claims.permissions import require_operator
from cpor.claims.services.history import SYSTEM, _lock_claim, _record
from cpor.errors import DomainError, PermissionDenied, illegal_transition
from cpor.rowload import RowLoader

NEVER = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _reviewer_name(user: User) -> str:
    return user.get_full_name() or user.email


def _require_reviewer_user(reviewer: User | int) -> User:
    pk = reviewer.pk if isinstance(reviewer, User) else reviewer
    try:
        return User.objects.get(pk=pk, operator_role=OperatorRole.REVIEWER, is_active=True)
    except (User.DoesNotExist, ValueError, TypeError):
        raise DomainError(
            "unknown_reviewer", _("Choose an active reviewer."), field="reviewer"
        ) from None


# ---------------------------------------------------------------------------
# Choosing


def reviewer_open_loads(reviewer_ids: Iterable[int]) -> Counter:
    """Each reviewer's open claims (assigned, not yet decided), in one query over the
    partial index ``claim_open_by_reviewer``. A read, kept beside the rule it serves."""
    rows = (
        Claim.objects.filter(assigned_reviewer_id__in=list(reviewer_ids), status__in=OPEN_STATUSES)
        .values("assigned_reviewer_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counter({row["assigned_reviewer_id"]: row["n"] for row in rows})


# The on-duty rows with their reviewers, by a statement built once (``cpor.rowload``).
_DUTIES = RowLoader(ReviewerDuty, ("reviewer",), order=("pk",))
_ON_DUTY = (
    "{row}.on_duty = %s AND EXISTS (SELECT 1 FROM accounts_user u"
    " WHERE u.id = {row}.reviewer_id AND u.is_active = %s AND u.operator_role = %s)"
)


def _duties_on_duty_locked() -> list[ReviewerDuty]:
    """The on-duty rows of active reviewers, locked in id order: the assignment's mutex
    (module docstring); not the reviewers' user rows."""
    return _DUTIES.fetch(_ON_DUTY, [True, True, str(OperatorRole.REVIEWER)], lock=True)


class _Balancer:
    """Least open load first, then least recently assigned: one choice after another."""

    def __init__(self, duties: list[ReviewerDuty]) -> None:
        self.duties = duties
        self.loads = reviewer_open_loads([d.pk for d in duties])

    def choose(self, now: datetime.datetime) -> ReviewerDuty | None:
        if not self.duties:
            return None
        duty = min(
            self.duties,
            key=lambda d: (self.loads[d.pk], d.last_assigned_at or NEVER, d.pk),
        )
        self.loads[duty.pk] += 1
        duty.last_assigned_at = now
        return duty


def assign_on_entry(claim: Claim, *, now: datetime.datetime | None = None) -> User | None:
    """Within a transition that just put ``claim`` (locked) in the queue: keep its
    reviewer if still on duty, otherwise give it to the next reviewer by the balancing
    rule, with an ``assign`` event. Returns the reviewer, or ``None`` if nobody is on
    duty (the claim waits unassigned, as before automatic balancing)."""
    now = now or timezone.now()
    duties = _duties_on_duty_locked()
    if claim.assigned_reviewer_id and any(d.pk == claim.assigned_reviewer_id for d in duties):
        return claim.assigned_reviewer
    duty = _Balancer(duties).choose(now)
    if duty is None:
        return None
    ReviewerDuty.objects.filter(pk=duty.pk).update(last_assigned_at=now)
    reviewer = duty.reviewer
    _set_reviewer(claim, reviewer, actor=None, now=now, automatic=True)
    return reviewer


def _set_reviewer(
    claim: Claim,
    reviewer: User | None,
    *,
    actor: User | None,
    now: datetime.datetime,
    automatic: bool = False,
) -> None:
    Claim.objects.filter(pk=claim.pk).update(assigned_reviewer=reviewer)
    claim.assigned_reviewer = reviewer
    if reviewer is None:
        message = _("Unassigned: no reviewer on duty.")
    elif automatic:
        message = _("Assigned to %s by workload balancing.") % _reviewer_name(reviewer)
    else:
        message = _("Assigned to %s.") % _reviewer_name(reviewer)
    _record(
        claim,
        action=EventAction.ASSIGN,
        actor=actor,
        actor_label="" if actor else SYSTEM,
        message=message,
        internal=True,
        shared=True,
        at=now,
    )


# ---------------------------------------------------------------------------
# Named assignment


@transaction.atomic
def claim_assign(*, actor: User, claim: Claim, reviewer: User | int) -> Claim:
    """Give an open claim to a named reviewer (on duty or not: a deliberate choice).

    Reviewers and program admins may assign; the claim's state does not change."""
    require_operator(actor)
    reviewer = _require_reviewer_user(reviewer)
    claim = _lock_claim(claim)
    if claim.status not in OPEN_STATUSES:
        raise illegal_transition(_("claim"), _("assigned"), claim.get_status_display())
    if claim.assigned_reviewer_id == reviewer.pk:
        raise DomainError(
            "already_assigned",
            _("The claim is already assigned to %s.") % _reviewer_name(reviewer),
            field="reviewer",
        )
    _set_reviewer(claim, reviewer, actor=actor, now=timezone.now())
    return claim


# ---------------------------------------------------------------------------
# Duty and away


def _require_duty_manager(actor: User, reviewer: User) -> None:
    require_operator(actor)
    if not (actor.is_program_admin or actor.pk == reviewer.pk):
        raise PermissionDenied(
            _("Only a program admin or the reviewer themself can change this reviewer's duty.")
        )


def reviewer_set_duty(*, actor: User, reviewer: User | int, on_duty: bool) -> ReviewerDuty:
    """Put a reviewer on duty, or mark them away: off duty, and their open claims
    reassigned among the reviewers on duty (``reviewer_reassign_open_claims``).

    Two transactions on purpose: the reviewer leaves the rotation first (their row only),
    so no submission can give them a claim once the reassignment starts."""
    reviewer = _require_reviewer_user(reviewer)
    _require_duty_manager(actor, reviewer)
    now = timezone.now()
    with transaction.atomic():
        duty, _created = ReviewerDuty.objects.select_for_update().get_or_create(
            reviewer=reviewer, defaults={"on_duty": on_duty, "changed_by": actor}
        )
        duty.on_duty, duty.changed_at, duty.changed_by = on_duty, now, actor
        duty.save(update_fields=["on_duty", "changed_at", "changed_by"])
    if not on_duty:
        duty.reassigned = reviewer_reassign_open_claims(actor=actor, reviewer=reviewer)
    else:
        duty.reassigned = 0
    return duty


@transaction.atomic
def reviewer_reassign_open_claims(*, actor: User, reviewer: User | int) -> int:
    """Spread an away reviewer's open claims over the reviewers on duty (least load
    first, oldest submission first), in a constant number of statements; with nobody on
    duty they are left unassigned. Returns how many claims moved."""
    reviewer = _require_reviewer_user(reviewer)
    _require_duty_manager(actor, reviewer)
    # Claims first, then duty rows: the order every assignment takes them in.
    claims = list(
        Claim.objects.select_for_update(of=("self",))
        .filter(assigned_reviewer=reviewer, status__in=OPEN_STATUSES)
        .order_by("submitted_at", "pk")
        .only("pk", "status", "submitted_at", "assigned_reviewer_id")
    )
    if not claims:
        return 0
    duties = [d for d in _duties_on_duty_locked() if d.pk != reviewer.pk]
    balancer = _Balancer(duties)
    now = timezone.now()
    chosen: dict[int, ReviewerDuty | None] = {c.pk: balancer.choose(now) for c in claims}
    # With anyone on duty every claim gets someone; with nobody, none does.
    if duties:
        Claim.objects.filter(pk__in=list(chosen)).update(
            assigned_reviewer_id=Case(
                *[When(pk=pk, then=Value(d.pk)) for pk, d in chosen.items()],
                output_field=BigIntegerField(),
            )
        )
    else:
        Claim.objects.filter(pk__in=list(chosen)).update(assigned_reviewer=None)
    used = {d.pk for d in chosen.values() if d is not None}
    if used:
        ReviewerDuty.objects.filter(pk__in=used).update(last_assigned_at=now)
    names = {u.pk: _reviewer_name(u) for u in User.objects.filter(pk__in=used)}
    away = _reviewer_name(reviewer)
    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            claim_id=pk,
            action=EventAction.ASSIGN,
            actor=actor,
            message=(
                _("Reassigned from %(away)s (away) to %(to)s.") % {"away": away, "to": names[d.pk]}
                if d is not None
                else _("Unassigned from %s (away): no reviewer on duty.") % away
            ),
            internal=True,
            shared=True,
            at=now,
        )
        for pk, d in chosen.items()
    )
    events.announce()
    return len(claims)
