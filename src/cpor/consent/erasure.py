"""Erasing a person's contact data on request (``manage.py erase_contact EMAIL``).

Every place the address is stored is pseudonymised in one transaction: the claims that
name the person as a contact (address, name and title), the history events that quote
the address, the e-mails in the outbox and mail log (recipient, subject, bodies,
payload, dedupe key), decline links, the tenants' admin contacts, webhook delivery
payloads, stored API answers, the PoE signatory fields that name the person, and their
own user account (name and address pseudonymised, deactivated, no password: a person
erased cannot sign in). The address becomes ``erased-<ref>@erased.invalid``
and the person's name "[erased]".

The history stays verifiable. A sealed event is never re-sealed; each event changed here
gets an ``EventRedaction`` signed under the history key (``claims.integrity.redaction``)
that ``verify_history`` follows from the sealed hash to the stored content. Each claim
touched gets its own history event saying the contact data were erased, sealed like any
other, and the erasure itself is one ``ContactErasure`` row: who asked, when, and a
keyed, non-reversible reference to the address.

The immutability triggers refuse these updates on submitted claims and on events; the
erasure lifts the two it must pass for the length of its own transaction only, and holds
the event consumers' locks so that no sealer or sender works on the rows meanwhile.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.api.models import IdempotencyRecord, WebhookDelivery
from cpor.audit.models import AuditAction
from cpor.audit.services import audit_record
from cpor.claims import immutability
from cpor.claims.integrity import CONTENT_COLUMNS, content_hash
from cpor.claims.integrity.redaction import Redaction, redaction_signature
from cpor.claims.models import Claim, ClaimEvent, EventAction, ProofOfExecution
from cpor.claims.services.history import _record
from cpor.consent.models import ContactErasure, DeclineLink, EventRedaction
from cpor.customers.models import TenantAdminContact
from cpor.errors import DomainError
from cpor.notifications.consumers import CONSUMERS, _serialise
from cpor.notifications.models import MessageStatus, OutboxMessage

ERASED_NAME = "[erased]"
REFERENCE_SALT = "cpor.consent.erasure"


def contact_reference(email: str) -> str:
    """The keyed SHA-256 of the normalised address: the same for the same address, and
    worthless to whoever does not hold the key."""
    key = settings.CPOR_HISTORY_KEY or settings.SECRET_KEY
    return salted_hmac(
        REFERENCE_SALT, email.strip().lower(), secret=key, algorithm="sha256"
    ).hexdigest()


def _clean(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(
            "invalid_email", _("“%s” is not an e-mail address.") % email, field="email"
        ) from None
    return email


class _Replacer:
    """Case-insensitive replacement of the address (and the person's names) in text."""

    def __init__(self, email: str, pseudonym: str, names: set[str]) -> None:
        self.pseudonym = pseudonym
        self._email = re.compile(re.escape(email), re.IGNORECASE)
        # Longest first, so "Ana Silva" goes before "Ana".
        ordered = sorted((n for n in names if len(n) >= 3), key=len, reverse=True)
        self._names = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @property
    def has_names(self) -> bool:
        return self._names is not None

    def text(self, value: str, *, names: bool = False) -> str:
        value = self._email.sub(self.pseudonym, value)
        if names and self._names is not None:
            value = self._names.sub(ERASED_NAME, value)
        return value

    def data(self, value, *, names: bool = False):
        """The same inside JSON-like data (payloads), keys and values."""
        if isinstance(value, str):
            return self.text(value, names=names)
        if isinstance(value, list):
            return [self.data(item, names=names) for item in value]
        if isinstance(value, dict):
            return {self.text(k): self.data(v, names=names) for k, v in value.items()}
        return value


@contextmanager
def _history_writable() -> Iterator[None]:
    """Within the caller's transaction, let this erasure update frozen claim contacts and
    history events; the triggers are back when it commits (or rolls back)."""
    tables = {
        "claims_claim_frozen": "claims_claim",
        "claims_event_immutable": "claims_claimevent",
        "claims_poe_immutable": "claims_proofofexecution",
    }
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            # PostgreSQL alters no table with foreign-key checks pending: run them as we go.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for trigger, table in tables.items():
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        else:
            for trigger in (
                "claims_claim_frozen",
                "claims_event_no_update",
                "claims_poe_no_update",
            ):
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    yield
    with connection.cursor() as cursor:
        if postgresql:
            for trigger, table in tables.items():
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            immutability.install(connection)


def _contains(email: str, *fields: str) -> Q:
    query = Q()
    for field in fields:
        query |= Q(**{f"{field}__icontains": email})
    return query


def _claims(email: str, swap: _Replacer) -> tuple[int, set[int]]:
    changed, ids = 0, set()
    sides = (
        ("customer_contact_email", "customer_contact_name", "customer_contact_title"),
        ("partner_contact_email", "partner_contact_name", None),
    )
    query = _contains(email, "comments") | Q(customer_contact_email__iexact=email)
    query |= Q(partner_contact_email__iexact=email)
    # The base manager: ClaimQuerySet.update refuses contact changes on submitted claims.
    for claim in Claim._base_manager.filter(query).order_by("pk"):
        values = {"comments": swap.text(claim.comments, names=True)}
        for address, name, title in sides:
            if getattr(claim, address).lower() == email.lower():
                values |= {address: swap.pseudonym, name: ERASED_NAME}
                if title:
                    values[title] = ERASED_NAME
        Claim._base_manager.filter(pk=claim.pk).update(**values)
        changed += 1
        ids.add(claim.pk)
    return changed, ids


def _names(email: str) -> set[str]:
    """The person's names as recorded beside the address, to erase from texts too."""
    names = set(
        TenantAdminContact.objects.filter(email__iexact=email).values_list("name", flat=True)
    )
    names |= set(
        Claim.objects.filter(customer_contact_email__iexact=email).values_list(
            "customer_contact_name", flat=True
        )
    )
    names |= set(
        Claim.objects.filter(partner_contact_email__iexact=email).values_list(
            "partner_contact_name", flat=True
        )
    )
    names |= {user.get_full_name() for user in User.objects.filter(email__iexact=email)}
    return {name for name in names if name and name != ERASED_NAME}


def _proofs(email: str, swap: _Replacer, names: set[str]) -> tuple[int, set[int]]:
    """PoE signed by the person: their name or address in the signatory field. The
    stored file is the customer's evidence and stays; its hash is not the signatory's."""
    query = Q(signatory__icontains=email)
    for name in names:
        query |= Q(signatory__icontains=name)
    changed, claims = 0, set()
    for proof in ProofOfExecution._base_manager.filter(query).order_by("pk"):
        signatory = swap.text(proof.signatory, names=True)
        if signatory != proof.signatory:
            ProofOfExecution._base_manager.filter(pk=proof.pk).update(signatory=signatory)
            changed += 1
            claims.add(proof.claim_id)
    return changed, claims


def _user_account(email: str, pseudonym: str, swap: _Replacer) -> int:
    """The person's own user account: pseudonymised and deactivated, with no password,
    so it neither names them nor lets anyone in; memberships and history links stay."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        return 0
    user.username = user.email = pseudonym
    user.first_name, user.last_name = ERASED_NAME, ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.filter(user=user).update(email=pseudonym)
    for account in SocialAccount.objects.filter(user=user):
        account.extra_data = swap.data(account.extra_data, names=True)
        account.save(update_fields=["extra_data"])
    return 1


def _events(
    email: str, swap: _Replacer, claim_ids: set[int], erasure: ContactErasure
) -> tuple[int, set[int]]:
    """Pseudonymise the events that quote the address (or, on the person's own claims,
    their name), each with a signed redaction from its old content to its new."""
    query = _contains(email, "message", "actor_label")
    if swap.has_names and claim_ids:
        query |= Q(claim_id__in=claim_ids)
    changed, touched = 0, set()
    for event in ClaimEvent.objects.filter(query).order_by("pk").iterator(chunk_size=500):
        on_own_claim = event.claim_id in claim_ids
        message = swap.text(event.message, names=on_own_claim)
        label = swap.text(event.actor_label, names=on_own_claim)
        if (message, label) == (event.message, event.actor_label):
            continue
        before = content_hash({c: getattr(event, c) for c in CONTENT_COLUMNS})
        event.message, event.actor_label = message, label
        after = content_hash({c: getattr(event, c) for c in CONTENT_COLUMNS})
        ClaimEvent.objects.filter(pk=event.pk).update(message=message, actor_label=label)
        EventRedaction.objects.create(
            erasure=erasure,
            event_id=event.pk,
            from_hash=before,
            to_hash=after,
            signature=redaction_signature(
                event_id=event.pk, from_hash=before, to_hash=after, reference=erasure.reference
            ),
        )
        changed += 1
        touched.add(event.claim_id)
    return changed, touched


def _rows(queryset, swap: _Replacer, fields: dict[str, Callable]) -> int:
    """Rewrite the given fields of each row through their converter; how many changed."""
    changed = 0
    for row in queryset.order_by("pk").iterator(chunk_size=500):
        values = {name: convert(getattr(row, name)) for name, convert in fields.items()}
        values = {name: v for name, v in values.items() if v != getattr(row, name)}
        if values:
            type(row)._base_manager.filter(pk=row.pk).update(**values)
            changed += 1
    return changed


def _bytes(swap: _Replacer) -> Callable[[bytes], bytes]:
    def convert(value) -> bytes:
        text = bytes(value).decode("utf-8", errors="surrogateescape")
        return swap.text(text).encode("utf-8", errors="surrogateescape")

    return convert


def _json_text(email: str, field: str) -> Q:
    # JSON columns matched as text: their escaped form never hides an address.
    return Q(**{f"{field}__icontains": email})


def contact_erase(*, email: str, requested_by: str) -> ContactErasure:
    """Pseudonymise every stored trace of ``email``; refuse an address found nowhere."""
    email = _clean(email)
    requested_by = (requested_by or "").strip()[:200]
    if not requested_by:
        raise DomainError("required", _("Say who asked for the erasure."), field="requested_by")
    reference = contact_reference(email)
    pseudonym = f"erased-{reference[:16]}@erased.invalid"
    with transaction.atomic():
        for name in CONSUMERS:  # no sealing or deriving of messages meanwhile
            _serialise(name)
        names = _names(email)
        swap = _Replacer(email, pseudonym, names)
        erasure = ContactErasure.objects.create(
            reference=reference, pseudonym=pseudonym, requested_by=requested_by
        )
        counts: Counter[str] = Counter()
        with _history_writable():
            counts["claims"], own_claims = _claims(email, swap)
            counts["proofs"], signed = _proofs(email, swap, names)
            own_claims |= signed
            counts["events"], quoted_in = _events(email, swap, own_claims, erasure)
            for claim in Claim.objects.filter(pk__in=own_claims | quoted_in).order_by("pk"):
                _record(
                    claim,
                    action=EventAction.EDIT,
                    actor=None,
                    actor_label=_("erasure"),
                    message=_("A contact's personal data were erased on request (reference %s).")
                    % reference[:16],
                )
        text = swap.text
        with_names = lambda value: swap.text(value, names=True)  # noqa: E731
        outbox = OutboxMessage.objects.filter(
            _contains(email, "recipient", "dedupe_key", "subject", "body_text", "body_html")
            | _contains(email, "last_error")
            | _json_text(email, "payload")
        )
        # Nothing more goes to the erased address.
        counts["outbox_cancelled"] = outbox.filter(
            status=MessageStatus.PENDING, recipient__icontains=email
        ).update(status=MessageStatus.FAILED, last_error="recipient erased")
        counts["outbox"] = _rows(
            outbox,
            swap,
            {
                "recipient": text,
                "dedupe_key": text,
                "subject": with_names,
                "body_text": with_names,
                "body_html": with_names,
                "last_error": text,
                "payload": lambda value: swap.data(value, names=True),
            },
        )
        counts["decline_links"] = DeclineLink.objects.filter(email__iexact=email).update(
            email=pseudonym
        )
        counts["admin_contacts"] = TenantAdminContact.objects.filter(email__iexact=email).update(
            email=pseudonym, name=ERASED_NAME
        )
        counts["webhook_deliveries"] = _rows(
            WebhookDelivery.objects.filter(
                _json_text(email, "payload") | _contains(email, "last_error")
            ),
            swap,
            {"payload": lambda value: swap.data(value, names=True), "last_error": text},
        )
        counts["idempotency_records"] = _rows(
            _idempotency_records(email), swap, {"body": _bytes(swap)}
        )
        counts["user"] = _user_account(email, pseudonym, swap)
        counts = Counter({name: n for name, n in counts.items() if n})
        if not counts:
            raise DomainError(
                "contact_not_found",
                _("No contact data are stored for %s; nothing was erased.") % email,
                field="email",
            )
        erasure.counts = dict(counts)
        erasure.save(update_fields=["counts"])
        audit_record(
            actor=None,
            action=AuditAction.CONTACT_ERASED,
            target_type="contact",
            target_id=reference[:16],
            target_label=pseudonym,
            after={"requested_by": requested_by, "counts": erasure.counts},
        )
    return erasure


def _idempotency_records(email: str):
    """Stored API answers that quote the address (binary bodies: searched as text)."""
    if connection.vendor == "postgresql":
        condition = "position(lower(%s) in lower(encode(body, 'escape'))) > 0"
    else:
        condition = "instr(lower(CAST(body AS TEXT)), lower(%s)) > 0"
    return IdempotencyRecord.objects.extra(where=[condition], params=[email])  # noqa: S610


def event_redactions(event_id: int) -> list[Redaction]:
    """The redaction source ``verify_history`` follows (registered in ``ConsentConfig``)."""
    return [
        Redaction(event_id, r.from_hash, r.to_hash, r.erasure.reference, r.signature)
        for r in EventRedaction.objects.filter(event_id=event_id).select_related("erasure")
    ]
