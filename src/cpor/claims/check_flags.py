"""The check flags stored on a claim, so the review queue filters without re-running the
checks for every pending claim.

- ``has_conflict``: another partner holds the unit of a pending line. Set when the
  checks run (submission, reply, dispute) and recomputed for every open claim asking
  for a unit whenever that unit's holder changes (an approval, the end or carry-over of
  an association) by the "check_flags" event consumer, from the committed history.
- ``poe_signed_on`` and ``units_end_on``: the inputs of the time-bound checks, the
  newest PoE signed by the day of the check and the first end of a pending subscription.
  ``failing_checks`` compares them with today and with each engagement's PoE age limit
  as it is when the queue is read, so they stay true as time passes and when a program
  admin changes a limit. PoE cannot be added while a claim awaits a decision, and a
  reply or a dispute (the ways back into the queue) stores them again.

What they do not follow: a subscription whose dates or channel an import changes after
the claim's last check (the queue row's own flags, computed live, still show it). The
review screen re-runs every check. Migration claims/0007 computed all three for the open
claims that existed before.
"""

import datetime

from django.db import transaction
from django.db.models import BooleanField, Expression, Q
from django.utils import timezone

from cpor.catalog.models import PartnerRole
from cpor.claims.checks import CheckResults, Outcome, time_bound_inputs
from cpor.claims.models import (
    HELD_STATUSES,
    OPEN_STATUSES,
    Association,
    Claim,
    ClaimEvent,
    ClaimLine,
    EventAction,
    LineStatus,
)
from cpor.claims.selectors import unit_filter
from cpor.partners.models import PartnerLocation
from cpor.rowload import placeholders


class ClaimCondition(Expression):
    """A condition on a claim row written in SQL, ``{row}`` standing for that row's
    table (its alias, also when the query is nested in another one).

    The queue shows four flags per row, and Django took about 10 ms of CPU to compile
    them as nested ``Exists`` expressions, more than the rest of the page's queries;
    written here they cost nothing to compile. ``review/tests/test_selectors.py`` checks
    them against the checks they stand for, on SQLite and PostgreSQL."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, sql: str, params: list | tuple = ()):
        super().__init__()
        self.sql, self.params = sql, list(params)

    def as_sql(self, compiler, connection):
        row = compiler.quote_name_unless_alias(compiler.query.base_table)
        return f"({self.sql.replace('{row}', row)})", self.params


# A pending line's unit (a subscription, or the tenant's workload of the product) held
# by another partner: the pending or active association that settles who holds it.
_CONFLICT_SQL = """
EXISTS (SELECT 1 FROM claims_claimline l
         WHERE l.claim_id = {row}.id AND l.status = %s AND l.subscription_id IS NULL
           AND EXISTS (SELECT 1 FROM claims_association a
                        WHERE a.tenant_id = {row}.tenant_id AND a.product_id = l.product_id
                          AND a.subscription_id IS NULL AND a.status IN ({held})
                          AND a.organisation_id <> {row}.organisation_id))
OR EXISTS (SELECT 1 FROM claims_claimline l
            WHERE l.claim_id = {row}.id AND l.status = %s AND l.subscription_id IS NOT NULL
              AND EXISTS (SELECT 1 FROM claims_association a
                           WHERE a.subscription_id = l.subscription_id AND a.status IN ({held})
                             AND a.organisation_id <> {row}.organisation_id))"""
_CONFLICT_SQL = _CONFLICT_SQL.replace("{held}", placeholders(HELD_STATUSES))


def conflict_condition() -> ClaimCondition:
    """True for a claim row with a pending line on a unit another partner holds."""
    unit_held = [str(LineStatus.PENDING), *map(str, HELD_STATUSES)]
    return ClaimCondition(_CONFLICT_SQL, unit_held * 2)


def stored_check_flags(
    claim: Claim,
    results: CheckResults | None = None,
    *,
    today: datetime.date | None = None,
) -> dict[str, object]:
    """The flag fields for ``claim``, to be written with the claim's own transition.

    The check ``results`` just run, when there are some, already say whether another
    partner holds a unit and hold the time-bound inputs (read with their flags);
    otherwise two queries ask."""
    if results is None:
        conflict = Claim.objects.filter(conflict_condition(), pk=claim.pk).exists()
        inputs = time_bound_inputs(claim, today=today or timezone.localdate())
    else:
        conflict = any(r.code == "conflict" and r.outcome != Outcome.PASS for r in results)
        inputs = {"poe_signed_on": results.poe_signed_on, "units_end_on": results.units_end_on}
    return {"has_conflict": conflict, **inputs}


def failing_checks(today: datetime.date) -> Q:
    """True for a claim row whose time-bound checks fail today, from the stored inputs,
    or whose PartnerID is no longer active (read live: a short list of locations)."""
    roles_by_limit: dict[int, list[int]] = {}
    for role_id, days in PartnerRole.objects.values_list("pk", "engagement__poe_max_age_days"):
        roles_by_limit.setdefault(days, []).append(role_id)
    condition = Q(poe_signed_on__isnull=True) | Q(units_end_on__lt=today)
    for days, role_ids in roles_by_limit.items():
        cutoff = today - datetime.timedelta(days=days)
        condition |= Q(role_id__in=role_ids, poe_signed_on__lt=cutoff)
    inactive = PartnerLocation.objects.filter(active=False).values_list("pk", flat=True)
    return condition | Q(location_id__in=list(inactive))


def unit_conflicts_refresh(*, tenant_id: int, product_id: int, subscription_id: int | None) -> int:
    """Recompute ``has_conflict`` of every open claim with a pending line on the unit.

    Returns how many claims it rewrote."""
    asking = ClaimLine.objects.filter(
        unit_filter(
            tenant_id=tenant_id,
            product_id=product_id,
            subscription_id=subscription_id,
            prefix="claim__tenant_id",
        ),
        status=LineStatus.PENDING,
    ).values("claim_id")
    with transaction.atomic():
        # Lock in id order first: two refreshes of the same unit (a race of approvals)
        # then queue behind each other instead of deadlocking.
        claim_ids = list(
            Claim.objects.select_for_update()
            .filter(pk__in=asking, status__in=OPEN_STATUSES)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return Claim.objects.filter(pk__in=claim_ids).update(has_conflict=conflict_condition())


HOLDER_CHANGES = frozenset(
    {EventAction.APPROVE, EventAction.END, EventAction.CARRY_OVER, EventAction.LEGACY_IMPORT}
)


def conflicts_refresh_for_events(events: list[ClaimEvent]) -> list:
    """The "check_flags" event consumer: once a unit changed hands (an approval, the end
    or carry-over of an association), recompute the conflicts of the claims asking for it.

    From the committed history, not inside the transition: the open claims asking for
    the unit may be locked by their own transitions (two approvals racing for the unit),
    and waiting for them there would deadlock with the unique index that settles the
    race. The consumer's cursor makes it crash-safe. Writes no messages."""
    changes = [e for e in events if e.action in HOLDER_CHANGES]
    if not changes:
        return []
    approved = {e.claim_id for e in changes if e.action == EventAction.APPROVE}
    touched = {e.association_id for e in changes if e.association_id}
    units = set(
        Association.objects.filter(Q(claim_id__in=approved) | Q(pk__in=touched)).values_list(
            "tenant_id", "product_id", "subscription_id"
        )
    )
    for tenant_id, product_id, subscription_id in sorted(units, key=str):
        unit_conflicts_refresh(
            tenant_id=tenant_id, product_id=product_id, subscription_id=subscription_id
        )
    return []
