"""Customer declines, through a signed link or as a signed-in customer admin, and
fresh decline links on request. The claim transitions themselves are the claims
services (``claim_decline_lines``, ``association_decline``)."""

import datetime
import secrets
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor import retention
from cpor.accounts.models import User
from cpor.claims import services as claims
from cpor.claims.models import HELD_STATUSES, OPEN_STATUSES, Claim, EndReason, LineStatus
from cpor.consent.models import DeclineLink
from cpor.consent.tokens import decline_link_create, decline_link_url
from cpor.customers.models import TenantAdminContact, TenantDomain
from cpor.errors import DomainError
from cpor.notifications.notices import decline_links_notify

MAX_REASON = 2000


def _decline_lines_of_claim(
    *, claim: Claim, line_ids: Sequence[int], reason: str, actor: User | None, actor_label: str
) -> int:
    """Decline chosen lines of one claim in one transaction: all of them, or nothing.

    Lines already declined by the customer are harmless; a line that is neither under
    review nor held any more is refused with a clear error."""
    if not line_ids:
        raise DomainError("nothing_chosen", _("Choose what to decline."), field="units")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise DomainError("too_long", _("At most %d characters.") % MAX_REASON, field="reason")
    lines = {
        line.pk: line
        for line in claim.lines.select_related("product", "subscription").filter(pk__in=line_ids)
    }
    if set(line_ids) - set(lines):
        raise DomainError(
            "unit_not_in_request", _("Choose units of this request only."), field="units"
        )
    declined = 0
    with transaction.atomic():
        claim.refresh_from_db()
        pending = [pk for pk, line in lines.items() if line.status == LineStatus.PENDING]
        if pending:
            if claim.status not in OPEN_STATUSES:
                raise DomainError(
                    "request_closed",
                    _("This request is no longer under review; there is nothing to decline."),
                    field="units",
                )
            claims.claim_decline_lines(
                claim=claim, line_ids=pending, actor=actor, actor_label=actor_label, reason=reason
            )
            declined += len(pending)
        for line in lines.values():
            if line.status == LineStatus.PENDING or line.status == LineStatus.DECLINED:
                continue
            association = getattr(line, "association", None) if line.status == "approved" else None
            if association is None:
                raise DomainError(
                    "unit_not_held",
                    _("%s was not approved; there is nothing to decline.") % line,
                    field="units",
                )
            if association.end_reason == EndReason.DECLINED_BY_CUSTOMER:
                continue  # declining twice is harmless
            if association.status not in HELD_STATUSES:
                raise DomainError(
                    "unit_not_held",
                    _("%s is no longer held by this partner; there is nothing to decline.") % line,
                    field="units",
                )
            claims.association_decline(
                association=association, actor=actor, actor_label=actor_label, reason=reason
            )
            declined += 1
    return declined


def decline_by_link(*, link: DeclineLink, line_ids: Sequence[int], reason: str = "") -> int:
    """The customer behind a decline link declines units of the link's claim."""
    count = _decline_lines_of_claim(
        claim=link.claim,
        line_ids=line_ids,
        reason=reason,
        actor=None,
        actor_label=_("customer (%s)") % link.email,
    )
    DeclineLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return count


def decline_by_customer_admin(
    *, actor: User, claim: Claim, line_ids: Sequence[int], reason: str = ""
) -> int:
    """A signed-in customer admin declines units of a claim on their own tenant."""
    tenant_id = getattr(getattr(actor, "customer_admin", None), "tenant_id", None)
    if tenant_id is None or claim.tenant_id != tenant_id:
        raise DomainError("not_found", _("No such request."))
    return _decline_lines_of_claim(
        claim=claim, line_ids=line_ids, reason=reason, actor=actor, actor_label=""
    )


def decline_links_resend(*, email: str, now: datetime.datetime | None = None) -> int:
    """E-mail fresh decline links to ``email`` if it speaks for a tenant with claims.

    An admin contact of the tenant, or a claim's customer contact at a domain verified
    for the tenant. The caller answers the same whatever this finds (returns how many
    links were sent, for tests and logs only)."""
    email = (email or "").strip()
    if not email or "\n" in email or "\r" in email or len(email) > 254:
        return 0
    now = now or timezone.now()
    domain = email.rpartition("@")[2].lower()
    tenant_ids = set(
        TenantAdminContact.objects.filter(email__iexact=email).values_list("tenant_id", flat=True)
    )
    verified = TenantDomain.objects.filter(domain=domain, verified=True).values_list(
        "tenant_id", flat=True
    )
    tenant_ids |= set(
        Claim.objects.filter(customer_contact_email__iexact=email, tenant_id__in=verified)
        .values_list("tenant_id", flat=True)
        .distinct()
    )
    if not tenant_ids:
        return 0
    relevant = (
        Claim.objects.filter(tenant_id__in=tenant_ids)
        .filter(
            Q(status__in=OPEN_STATUSES, lines__status=LineStatus.PENDING)
            | Q(associations__status__in=HELD_STATUSES)
        )
        .select_related("organisation", "location", "tenant")
        .distinct()
        .order_by("tenant__name", "-submitted_at")[:50]
    )
    language = (
        TenantAdminContact.objects.filter(email__iexact=email)
        .values_list("language", flat=True)
        .first()
    )
    with transaction.atomic():
        links = []
        for claim in relevant:
            token = decline_link_create(claim=claim, email=email, now=now)
            links.append(
                {
                    "tenant_name": claim.tenant.name,
                    "partner_name": claim.organisation.name,
                    "partner_id": claim.location.partner_id,
                    "claim_name": claim.name,
                    "url": decline_link_url(token),
                }
            )
            language = language or claim.tenant.language
        if not links:
            return 0
        decline_links_notify(
            email=email, language=language or "en", links=links, request_id=secrets.token_hex(12)
        )
    return len(links)


def decline_links_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete decline links, used or not, that expired longer ago than
    ``RETENTION_DECLINE_LINKS_DAYS``: until then an old link still opens the page that
    says it expired and offers a fresh one, after that it is simply unknown."""
    old = DeclineLink.objects.filter(
        expires_at__lt=retention.cutoff(settings.RETENTION_DECLINE_LINKS_DAYS, now=now)
    )
    return retention.delete_in_batches(old)
