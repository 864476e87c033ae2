"""Who is told what when a claim or an association changes (SPEC §4, Notifications).

The e-mail consumer (``consumers.py``) calls ``email_messages`` with a batch of history
events after they commit: on submission the tenant's admin contacts and a customer
contact at a verified domain get the request with a decline link; the author of a
stale draft is warned; on every other decision or state change the claim's partner
contact is told. Internal notes and drafting events (create, edit, PoE added) notify
nobody. Each message names its event and template and is rendered by
``render_event_message`` when it is delivered, in the recipient's language, from the
state the event recorded.
"""

import datetime
import logging

from django.conf import settings
from django.db.models.functions import Lower
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from cpor.accounts.models import User
from cpor.catalog.models import ProgramSettings
from cpor.claims.models import (
    AssociationStatus,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EndReason,
    EventAction,
)
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.selectors import TENANT_UNCONFIRMED
from cpor.customers.relationships import has_relationship
from cpor.errors import DomainError
from cpor.notifications.models import MessageKind, OutboxMessage
from cpor.notifications.services import clean_recipient, email_language, queue_email, render_email

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
    EndReason.REASSOCIATED: _("Legacy association replaced by your approved claim"),
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


def _message(event: ClaimEvent, *, to: str, role: str, template: str, language: str, payload=None):
    try:
        to = clean_recipient(to)
    except DomainError:
        # An address the database holds but mail cannot use must not stop the others;
        # claim input refuses such addresses.
        logger.warning("notification of event %s to %r skipped: malformed address", event.pk, to)
        return None
    return OutboxMessage(
        kind=MessageKind.EMAIL,
        dedupe_key=f"claim-event:{event.pk}:{role}"[:255],
        recipient=to,
        language=email_language(language),
        template=template,
        event_id=event.pk,
        payload=payload or {},
    )


def email_messages(events: list[ClaimEvent]) -> list[OutboxMessage]:
    """The e-mails a batch of committed events causes (unsaved), in a few queries."""
    told = [e for e in events if not e.internal and e.action not in SILENT_ACTIONS]
    if not told:
        return []
    claims = Claim.objects.select_related("tenant", "created_by").in_bulk(
        {e.claim_id for e in told}
    )
    languages = _languages({claims[e.claim_id].partner_contact_email for e in told})
    submitted = [e for e in told if e.action == EventAction.SUBMIT]
    recipients = _customer_recipients([claims[e.claim_id] for e in submitted])
    messages: list[OutboxMessage | None] = []
    links: list[tuple[OutboxMessage, Claim, str]] = []
    for event in told:
        claim = claims[event.claim_id]
        if event.action == EventAction.WARN_EXPIRY:
            messages.append(_draft_warning(event, claim))
            continue
        if event.action == EventAction.WARN_REASSOCIATE:
            # A legacy association ends with its subscription: the partner must claim again.
            to = claim.partner_contact_email
            messages.append(
                _message(
                    event,
                    to=to,
                    role="partner",
                    template="legacy_reassociate",
                    language=languages.get(to.lower()) or "en",
                )
            )
            continue
        if event.action == EventAction.SUBMIT:
            for email, language in recipients[claim.pk]:
                message = _message(
                    event,
                    to=email,
                    role=f"customer:{email.lower()}",
                    template="customer_request",
                    language=language,
                )
                if message is not None:
                    links.append((message, claim, email))
                    messages.append(message)
        to = claim.partner_contact_email
        messages.append(
            _message(
                event,
                to=to,
                role="partner",
                template="partner_event",
                language=languages.get(to.lower()) or "en",
            )
        )
    if links:
        from cpor.consent.tokens import decline_links_create

        tokens = decline_links_create([(claim, email) for _, claim, email in links])
        for (message, _, _), token in zip(links, tokens, strict=True):
            message.payload = {"decline_token": token}
    return [m for m in messages if m is not None]


def _languages(emails: set[str]) -> dict[str, str]:
    """The chosen language of the users with these e-mails, by lower-cased address."""
    lowered = {e.lower() for e in emails if e}
    return dict(
        User.objects.annotate(address=Lower("email"))
        .filter(address__in=lowered)
        .exclude(language="")
        .values_list("address", "language")
    )


def _customer_recipients(claims: list[Claim]) -> dict[int, list[tuple[str, str]]]:
    """(e-mail, language) told of each claim's request: the tenant's admin contacts, and
    the claim's customer contact when its domain is verified for the tenant."""
    if not claims:
        return {}
    from cpor.customers.models import TenantAdminContact, TenantDomain

    tenant_ids = {c.tenant_id for c in claims}
    contacts: dict[int, list] = {}
    for contact in TenantAdminContact.objects.filter(tenant_id__in=tenant_ids).order_by("pk"):
        contacts.setdefault(contact.tenant_id, []).append(contact)
    verified = set(
        TenantDomain.objects.filter(tenant_id__in=tenant_ids, verified=True).values_list(
            "tenant_id", Lower("domain")
        )
    )
    result = {}
    for claim in claims:
        tenant = claim.tenant
        recipients = {
            c.email.lower(): (c.email, c.language or tenant.language)
            for c in contacts.get(tenant.pk, [])
        }
        email = claim.customer_contact_email
        if (tenant.pk, email.rpartition("@")[2].lower()) in verified:
            recipients.setdefault(email.lower(), (email, tenant.language))
        result[claim.pk] = list(recipients.values())
    return result


def customer_recipients(claim: Claim) -> list[tuple[str, str]]:
    """(e-mail, language) of who is told of ``claim``'s request."""
    return _customer_recipients([claim])[claim.pk]


def _draft_warning(event: ClaimEvent, claim: Claim) -> OutboxMessage | None:
    author = claim.created_by
    expiry = datetime.timedelta(days=ProgramSettings.load().draft_expiry_days)
    return _message(
        event,
        to=author.email,
        role="author",
        template="draft_warning",
        language=author.language or "en",
        payload={"expires_on": (claim.updated_at + expiry).date().isoformat()},
    )


# ---------------------------------------------------------------------------
# Rendering at delivery time


def render_event_message(message: OutboxMessage) -> tuple[str, str, str]:
    """Subject, text and HTML of a message derived from a history event."""
    event = ClaimEvent.objects.select_related(
        "claim__tenant",
        "claim__organisation",
        "claim__location",
        "claim__role__engagement",
        "claim__created_by",
        "association__product",
        "association__subscription",
    ).get(pk=message.event_id)
    context = _CONTEXTS[message.template](event, message.payload or {})
    return render_email(template=message.template, context=context, language=message.language)


def _partner_tenant_name(claim) -> str:
    """What the partner's e-mail calls the customer: its name only with a relationship."""
    if has_relationship(organisation_id=claim.organisation_id, tenant=claim.tenant):
        return claim.tenant.name
    return str(TENANT_UNCONFIRMED)


def _partner_context(event: ClaimEvent, payload: dict) -> dict:
    claim = event.claim
    association = event.association
    return {
        "claim_id": claim.pk,
        "claim_name": claim.name,
        "partner_contact_name": claim.partner_contact_name,
        "headline": _headline(event),
        "from_status": _status_label(event.from_status) if event.from_status else "",
        "to_status": _status_label(event.to_status) if event.to_status else "",
        "reason": _reason_label(event.reason_code),
        # Printed in the recipient's language when the system wrote it.
        "message": lazy(lambda: event.display_message, str)(),
        "unit": association.unit_label if association is not None else "",
        "tenant_name": _partner_tenant_name(claim),
        # The deadline the request set (a request is the last word until the reply).
        "answer_due": claim.info_requested_until
        if event.action == EventAction.REQUEST_INFO
        else None,
    }


def _request_context(event: ClaimEvent, payload: dict) -> dict:
    from cpor.consent.tokens import decline_link_url

    claim = event.claim
    return {
        "claim_name": claim.name,
        "tenant_name": claim.tenant.name,
        "partner_name": claim.organisation.name,
        "partner_id": claim.location.partner_id,
        # Catalog entries, not their names: printed when the e-mail is rendered, so in
        # the recipient's language.
        "role_name": claim.role,
        "engagement_name": claim.role.engagement,
        # A submitted claim's lines never change (a database trigger): as submitted.
        "units": [str(line) for line in claim.lines.select_related("product", "subscription")],
        "notice_days": claim.role.engagement.notice_period_days,
        "decline_url": decline_link_url(payload["decline_token"]),
    }


def _warning_context(event: ClaimEvent, payload: dict) -> dict:
    claim = event.claim
    author = claim.created_by
    return {
        "claim_id": claim.pk,
        "claim_name": claim.name,
        "tenant_name": _partner_tenant_name(claim),
        "expires_on": datetime.date.fromisoformat(payload["expires_on"]),
        "name": author.get_full_name() or author.email,
    }


def _reassociate_context(event: ClaimEvent, payload: dict) -> dict:
    claim = event.claim
    association = event.association
    return {
        "partner_contact_name": claim.partner_contact_name,
        "tenant_name": claim.tenant.name,
        "unit": association.unit_label,
        "ends_on": association.subscription.ends_on,
        "legacy_source": association.legacy_source,
        "legacy_since": association.legacy_since,
        "claim_id": claim.pk,
    }


_CONTEXTS = {
    "legacy_reassociate": _reassociate_context,
    "partner_event": _partner_context,
    "customer_request": _request_context,
    "draft_warning": _warning_context,
}


def _safe_queue(**kwargs) -> None:
    try:
        queue_email(**kwargs)
    except DomainError:
        logger.warning("notification to %r skipped: malformed address", kwargs.get("to"))


def decline_links_notify(*, email: str, language: str, links: list[dict], request_id: str) -> None:
    """A fresh set of decline links, asked for on the expired-link page."""
    _safe_queue(
        to=email,
        template="decline_links",
        language=language,
        dedupe_key=f"decline-links:{request_id}",
        context={"links": links, "days": settings.CPOR_DECLINE_LINK_DAYS},
    )
