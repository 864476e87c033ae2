"""Who is told what, when a claim or an association changes (SPEC §4, Notifications).

``claim_event_notify`` is called by ``claims.services._record`` for every history event,
in the transaction that writes it: on submission the tenant's admin contacts and a
customer contact at a verified domain get the request with a decline link; on every
other decision or state change the claim's partner contact is told. Internal notes
and drafting events (create, edit, PoE added) notify nobody.
"""

import logging
import time

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cpor.accounts.models import User
from cpor.claims.models import (
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EndReason,
    EventAction,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.errors import DomainError
from cpor.notifications.services import queue_email

logger = logging.getLogger(__name__)

SILENT_ACTIONS = frozenset(
    {EventAction.CREATE, EventAction.EDIT, EventAction.ADD_POE, EventAction.NOTE}
)

HEADLINES = {
    EventAction.SUBMIT: _("Claim submitted"),
    EventAction.START_REVIEW: _("Review started"),
    EventAction.REQUEST_INFO: _("More information requested"),
    EventAction.REPLY: _("Reply received: claim resubmitted"),
    EventAction.REJECT: _("Claim rejected"),
    EventAction.WITHDRAW: _("Claim withdrawn"),
    EventAction.DECLINE: _("The customer declined"),
    EventAction.EXPIRE: _("Draft expired"),
    EventAction.DISPUTE: _("Dispute received"),
    EventAction.ACTIVATE: _("Association official"),
    EventAction.CARRY_OVER: _("Association carried over to a renewal"),
}
END_HEADLINES = {
    EndReason.DECLINED_BY_CUSTOMER: _("Association declined by the customer"),
    EndReason.SUPERSEDED: _("Association superseded by another partner"),
    EndReason.WITHDRAWN: _("Association withdrawn"),
    EndReason.EXPIRED: _("Association expired: the subscription ended"),
    EndReason.REVOKED: _("Association revoked by the program"),
}


def _headline(event: ClaimEvent):
    if event.action == EventAction.APPROVE:
        if event.to_status == ClaimStatus.PARTIALLY_APPROVED:
            return _("Claim partially approved")
        return _("Claim approved")
    if event.action == EventAction.END:
        return END_HEADLINES.get(event.reason_code, _("Association ended"))
    return HEADLINES.get(event.action, event.get_action_display())


def _reason_label(code: str):
    for choices in (RejectionReason, InfoRequestReason, EndReason):
        if code in choices.values:
            return choices(code).label
    return ""


def _status_label(status: str):
    for choices in (ClaimStatus, AssociationStatus):
        if status in choices.values:
            return choices(status).label
    return status


_LANGUAGES: dict[str, tuple[float, str]] = {}
LANGUAGE_CACHE_SECONDS = 60


def user_language(email: str, default: str = "en") -> str:
    """The language of the user with this e-mail, if any; remembered for a minute because
    periodic jobs tell the same partner contact about thousands of associations."""
    key = email.lower()
    cached = _LANGUAGES.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1] or default
    language = (
        User.objects.filter(email__iexact=email).values_list("language", flat=True).first()
    ) or ""
    if len(_LANGUAGES) > 10_000:
        _LANGUAGES.clear()
    _LANGUAGES[key] = (time.monotonic() + LANGUAGE_CACHE_SECONDS, language)
    return language or default


def claim_event_notify(*, event: ClaimEvent) -> None:
    """Queue the e-mails an event causes (none for drafting events and internal notes)."""
    if event.internal or event.action in SILENT_ACTIONS:
        return
    claim = event.claim
    if event.action == EventAction.SUBMIT:
        _notify_customer_of_request(claim, event)
    _notify_partner(claim, event)


def _safe_queue(**kwargs) -> None:
    # A contact address the database holds but mail cannot use must not block the
    # transition; it is logged and skipped (claim input refuses such addresses).
    try:
        queue_email(**kwargs)
    except DomainError:
        logger.warning("notification to %r skipped: malformed address", kwargs.get("to"))


def _notify_partner(claim: Claim, event: ClaimEvent) -> None:
    association = event.association
    to = claim.partner_contact_email
    _safe_queue(
        to=to,
        template="partner_event",
        language=user_language(to),
        dedupe_key=f"claim-event:{event.pk}:partner",
        context={
            "claim_id": claim.pk,
            "claim_name": claim.name,
            "partner_contact_name": claim.partner_contact_name,
            "headline": _headline(event),
            "claim_status": _status_label(claim.status),
            "from_status": _status_label(event.from_status) if event.from_status else "",
            "to_status": _status_label(event.to_status) if event.to_status else "",
            "reason": _reason_label(event.reason_code),
            "message": event.message,
            "unit": association.unit_label if association is not None else "",
            "tenant_name": claim.tenant.name,
            "answer_due": claim.info_requested_until
            if event.action == EventAction.REQUEST_INFO
            else None,
        },
    )


def customer_recipients(claim: Claim) -> list[tuple[str, str]]:
    """(e-mail, language) of who is told of a request: the tenant's admin contacts, and
    the claim's customer contact when its domain is verified for the tenant."""
    tenant = claim.tenant
    recipients = {
        contact.email.lower(): (contact.email, contact.language or tenant.language)
        for contact in tenant.admin_contacts.all()
    }
    contact_email = claim.customer_contact_email
    domain = contact_email.rpartition("@")[2].lower()
    if tenant.domains.filter(domain=domain, verified=True).exists():
        recipients.setdefault(contact_email.lower(), (contact_email, tenant.language))
    return list(recipients.values())


def request_context(claim: Claim) -> dict:
    return {
        "claim_name": claim.name,
        "tenant_name": claim.tenant.name,
        "partner_name": claim.organisation.name,
        "partner_id": claim.location.partner_id,
        "role_name": claim.role.name,
        "engagement_name": claim.role.engagement.name,
        "units": [str(line) for line in claim.lines.select_related("product", "subscription")],
        "notice_days": claim.role.engagement.notice_period_days,
    }


def _notify_customer_of_request(claim: Claim, event: ClaimEvent) -> None:
    from cpor.consent.tokens import decline_link_create, decline_link_url

    context = request_context(claim)
    for email, language in customer_recipients(claim):
        token = decline_link_create(claim=claim, email=email)
        _safe_queue(
            to=email,
            template="customer_request",
            language=language,
            dedupe_key=f"claim-event:{event.pk}:customer:{email.lower()}",
            context={**context, "decline_url": decline_link_url(token)},
        )


def draft_expiry_warning_notify(*, claim: Claim, expires_on) -> None:
    to = claim.created_by.email
    _safe_queue(
        to=to,
        template="draft_warning",
        language=claim.created_by.language or "en",
        dedupe_key=f"draft-warning:{claim.pk}:{claim.updated_at.isoformat()}",
        context={
            "claim_id": claim.pk,
            "claim_name": claim.name,
            "tenant_name": claim.tenant.name,
            "expires_on": expires_on,
            "name": claim.created_by.get_full_name() or to,
        },
    )


def decline_links_notify(*, email: str, language: str, links: list[dict], request_id: str) -> None:
    """A fresh set of decline links, asked for on the expired-link page."""
    _safe_queue(
        to=email,
        template="decline_links",
        language=language,
        dedupe_key=f"decline-links:{request_id}",
        context={"links": links, "days": settings.CPOR_DECLINE_LINK_DAYS},
    )
