"""The check flags stored on a claim, so the review queue filters without re-running the
checks for every pending claim.

- ``has_conflict``: another partner holds the unit of a pending line. Set when the
  checks run (submission, reply, dispute) and recomputed for every open claim asking
  for a unit whenever that unit's holder changes (an approval, the end of an
  association), after the change commits.
- ``checks_fail_from``: the first day the automated checks fail as of their last run.
  The day of the run if they failed then; otherwise the day the newest PoE leaves the
  engagement's age limit or the day after a pending subscription ends, whichever comes
  first. Storing a day rather than a yes/no keeps the flag true as time passes, with no
  job rewriting it at midnight.

The review screen still re-runs every check; these only decide what a filter lists.
Migration claims/0007 computed both for the open claims that existed before.
"""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, Max, Min, OuterRef, Q
from django.utils import timezone

from cpor.claims.checks import CheckResult, Outcome, failures
from cpor.claims.models import (
    HELD_STATUSES,
    OPEN_STATUSES,
    Association,
    Claim,
    ClaimLine,
    LineStatus,
)
from cpor.claims.selectors import unit_filter


def _held_elsewhere(*, subscription: bool) -> Exists:
    """A held association of another partner on the unit of a ``ClaimLine`` row that is
    itself inside a subquery on ``Claim``."""
    unit = unit_filter(
        tenant_id=OuterRef(OuterRef("tenant_id")),
        product_id=OuterRef("product_id"),
        subscription_id=OuterRef("subscription_id") if subscription else None,
    )
    return Exists(
        Association.objects.filter(unit, status__in=HELD_STATUSES).exclude(
            organisation_id=OuterRef(OuterRef("organisation_id"))
        )
    )


def conflict_condition() -> Q:
    """True for a claim row with a pending line on a unit another partner holds."""
    pending = ClaimLine.objects.filter(claim_id=OuterRef("pk"), status=LineStatus.PENDING)
    return Q(
        Exists(pending.filter(_held_elsewhere(subscription=False), subscription__isnull=True))
    ) | Q(Exists(pending.filter(_held_elsewhere(subscription=True), subscription__isnull=False)))


def checks_fail_from(claim: Claim, *, today: datetime.date) -> datetime.date | None:
    """The first day the time-bound checks fail: PoE age, then subscription end."""
    found = Claim.objects.filter(pk=claim.pk).aggregate(
        newest_poe=Max("proofs__signed_on", filter=Q(proofs__signed_on__lte=today)),
        first_end=Min(
            "lines__subscription__ends_on",
            filter=Q(lines__status=LineStatus.PENDING, lines__subscription__isnull=False),
        ),
    )
    if found["newest_poe"] is None:
        return today
    max_age = claim.role.engagement.poe_max_age_days
    days = [found["newest_poe"] + datetime.timedelta(days=max_age + 1)]
    if found["first_end"] is not None:
        days.append(found["first_end"] + datetime.timedelta(days=1))
    return min(days)


def stored_check_flags(
    claim: Claim,
    results: Iterable[CheckResult] | None = None,
    *,
    today: datetime.date | None = None,
) -> dict[str, object]:
    """The flag fields for ``claim``, from the check ``results`` just run when there are
    some (they already say whether another partner holds a unit), to be written with the
    claim's own transition."""
    today = today or timezone.localdate()
    if results is None:
        conflict = Claim.objects.filter(conflict_condition(), pk=claim.pk).exists()
        failed = False
    else:
        results = list(results)
        conflict = any(r.code == "conflict" and r.outcome != Outcome.PASS for r in results)
        failed = bool(failures(results))
    return {
        "has_conflict": conflict,
        "checks_fail_from": today if failed else checks_fail_from(claim, today=today),
    }


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
        return Claim.objects.filter(pk__in=claim_ids).update(
            has_conflict=ExpressionWrapper(conflict_condition(), output_field=BooleanField())
        )


def refresh_after_commit(association: Association) -> None:
    """Recompute the conflicts on ``association``'s unit once its holder change commits.

    After commit, not inside the transition: the open claims asking for the unit may be
    locked by their own transitions (two approvals racing for the unit), and waiting for
    them inside this transaction would deadlock with the unique index that settles the
    race. A crash between the commit and this refresh leaves a flag stale until the next
    check of that claim; the review screen re-runs the checks regardless."""
    unit = {
        "tenant_id": association.tenant_id,
        "product_id": association.product_id,
        "subscription_id": association.subscription_id,
    }
    transaction.on_commit(lambda: unit_conflicts_refresh(**unit))
