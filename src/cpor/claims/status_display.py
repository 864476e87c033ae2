"""The status a person cares about. An approved claim whose associations have all ended
gives its partner nothing any more: it reads "Approved · declined by the customer"
(or superseded, disassociated, subscription ended, revoked) rather than a bare
"Approved", on its page, in the list and on the customer's page."""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.claims.models import HELD_STATUSES, Association, Claim, ClaimStatus, EndReason

if TYPE_CHECKING:
    from cpor.claims.selectors import ListedClaim

APPROVED_STATUSES = (ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED)

# What follows "Approved · " once nothing of the approval is held.
ENDED_LABELS = {
    EndReason.DECLINED_BY_CUSTOMER: gettext_lazy("declined by the customer"),
    EndReason.SUPERSEDED: gettext_lazy("superseded by another partner"),
    EndReason.WITHDRAWN: gettext_lazy("disassociated"),
    EndReason.EXPIRED: gettext_lazy("subscription ended"),
    EndReason.REVOKED: gettext_lazy("revoked by the program"),
}

BADGES = {
    ClaimStatus.DRAFT: "text-bg-secondary",
    ClaimStatus.SUBMITTED: "text-bg-primary",
    ClaimStatus.IN_REVIEW: "text-bg-primary",
    ClaimStatus.ACTION_REQUIRED: "text-bg-warning",
    ClaimStatus.APPROVED: "text-bg-success",
    ClaimStatus.PARTIALLY_APPROVED: "text-bg-success",
    ClaimStatus.REJECTED: "text-bg-danger",
    ClaimStatus.DISPUTED: "text-bg-info",
}


def ended_reason(status: str, associations: Iterable[tuple[str, str, object]]) -> str:
    """How an approval ended, from its associations' (status, end reason, ended at):
    the latest end reason once none is held, "" while one is (or for other states)."""
    if status not in APPROVED_STATUSES:
        return ""
    rows = list(associations)
    if not rows or any(row[0] in HELD_STATUSES for row in rows):
        return ""
    return max(rows, key=lambda row: (row[2] is not None, row[2]))[1]


def mark_ended_approvals(claims: Sequence[Claim] | Sequence["ListedClaim"]) -> None:
    """Set ``ended_reason`` on each claim (or claim list row), in one query for the whole
    page."""
    approved = [claim.pk for claim in claims if claim.status in APPROVED_STATUSES]
    rows: dict[int, list[tuple[str, str, object]]] = {}
    if approved:
        for claim_id, *row in Association.objects.filter(claim_id__in=approved).values_list(
            "claim_id", "status", "end_reason", "ended_at"
        ):
            rows.setdefault(claim_id, []).append(tuple(row))
    for claim in claims:
        claim.ended_reason = ended_reason(claim.status, rows.get(claim.pk, ()))


def claim_status_label(status: str, ended: str = "") -> str:
    label = ClaimStatus(status).label
    if ended in ENDED_LABELS:
        return _("%(status)s · %(ended)s") % {"status": label, "ended": ENDED_LABELS[ended]}
    return str(label)


def claim_status_badge(status: str, ended: str = "") -> str:
    """The badge's colour class: an approval that ended is no longer a success."""
    if ended:
        return "text-bg-secondary"
    return BADGES.get(status, "text-bg-light border")
