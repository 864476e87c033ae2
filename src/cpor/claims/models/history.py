"""The history: immutable events of claims and associations, and their hash chains."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpor.claims.models.claim import Claim
from cpor.errors import DomainError


class EventAction(models.TextChoices):
    CREATE = "create", _("Created")
    EDIT = "edit", _("Edited")
    ADD_POE = "add_poe", _("PoE added")
    SUBMIT = "submit", _("Submitted")
    START_REVIEW = "start_review", _("Review started")
    REQUEST_INFO = "request_info", _("More information requested")
    REPLY = "reply", _("Partner replied")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    WITHDRAW = "withdraw", _("Withdrawn")
    DECLINE = "decline", _("Declined by customer")
    EXPIRE = "expire", _("Expired")
    DISPUTE = "dispute", _("Disputed")
    NOTE = "note", _("Internal note")
    ACTIVATE = "activate", _("Association official")
    END = "end", _("Association ended")
    CARRY_OVER = "carry_over", _("Association carried over to a renewal")
    WARN_EXPIRY = "warn_expiry", _("Expiry warning sent")
    # Reviewer workload: who reviews the claim (an internal event, never told to partners).
    ASSIGN = "assign", _("Reviewer assigned")
    # Legacy associations: imported, then the partner is told to claim again before the end.
    LEGACY_IMPORT = "legacy_import", _("Legacy association imported")
    WARN_REASSOCIATE = "warn_reassociate", _("Re-association notice sent")


class CurrentTransactionId(models.Func):
    """The id of the transaction writing the row: ``pg_current_xact_id()`` on PostgreSQL.

    Event consumers read history in (transaction, id) order up to the oldest transaction
    still running, so an event committed late is never skipped by a cursor that already
    passed its id. SQLite runs one writer at a time, so there id order is commit order
    and the column is 0."""

    template = "0"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return "(pg_current_xact_id()::text::bigint)", []


class ClaimEvent(models.Model):
    """One immutable line of a claim's history (and of its associations')."""

    claim = models.ForeignKey(Claim, models.CASCADE, related_name="events")
    association = models.ForeignKey(
        "Association", models.PROTECT, null=True, blank=True, related_name="events"
    )
    action = models.CharField(_("action"), max_length=20, choices=EventAction.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    reason_code = models.CharField(_("reason"), max_length=40, blank=True)
    message = models.TextField(_("message"), blank=True)
    internal = models.BooleanField(_("internal note"), default=False)
    # A reviewer's internal note is private to its author unless shared (SPEC §2).
    shared = models.BooleanField(_("shared with other reviewers"), db_default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who acted when no user did: "system", or a customer acting through a signed link.
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)
    txid = models.BigIntegerField(editable=False, db_default=CurrentTransactionId())

    class Meta:
        ordering = ("at", "id")
        verbose_name = _("history event")
        verbose_name_plural = _("history events")
        indexes = [
            # The event consumers' cursor order.
            models.Index(fields=["txid", "id"], name="claimevent_consumer_order"),
            # Time order: the audit trail export reads a period in keyset chunks.
            models.Index(fields=["at", "id"], name="claimevent_time_order"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"

    @property
    def display_message(self) -> str:
        """The message in the reader's language if the system wrote it (sealed as written)."""
        from cpor.claims.history_text import history_message

        return history_message(self.message)

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise DomainError("history_immutable", _("History events cannot be changed."))
        super().save(*args, **kwargs)


class ClaimEventSeal(models.Model):
    """The hashes that chain one history event into the global and its claim's chain.

    Written by the ``history_seal`` event consumer after commit, in cursor order, so
    ``seq`` is gapless and final. The links chain ``content_hash`` (SHA-256 of the
    event's canonical content, ``claims.integrity``), so a seal outlives an event
    deleted with its draft and the chain stays verifiable; ``in_draft`` says the claim
    was still a draft when the event was sealed, the only case in which its event may
    be missing later. Immutable (database triggers)."""

    seq = models.BigIntegerField(primary_key=True)
    # No foreign-key constraints: the seal must survive its draft's deletion.
    event = models.OneToOneField(
        ClaimEvent, models.DO_NOTHING, db_constraint=False, related_name="seal"
    )
    claim = models.ForeignKey(
        Claim, models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    # The event's place in the consumers' order: every event before it must be sealed.
    txid = models.BigIntegerField()
    in_draft = models.BooleanField()
    content_hash = models.CharField(max_length=64)
    claim_hash = models.CharField(max_length=64)
    global_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("history seal")
        verbose_name_plural = _("history seals")
        indexes = [models.Index(fields=["claim", "seq"], name="claimeventseal_claim_chain")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.global_hash[:12]}"


class HistoryCheckpoint(models.Model):
    """A signed statement of the global chain's head: ``seq`` (the number of sealed
    events), its ``head_hash`` and the seals counted then. The HMAC key lives outside
    the database (``CPOR_HISTORY_KEY`` or ``SECRET_KEY``), so whoever rewrites events and
    seals together cannot make the chain pass through an older checkpoint again."""

    seq = models.BigIntegerField()
    count = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("seq", "id")
        verbose_name = _("history checkpoint")
        verbose_name_plural = _("history checkpoints")

    def __str__(self) -> str:
        return f"#{self.seq} {self.head_hash[:12]} ({self.created_at:%Y-%m-%d %H:%M})"
