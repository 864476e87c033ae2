"""The outbox and the event consumers' cursors.

Every notification is an ``OutboxMessage`` delivered (and retried) apart from the
request that caused it. Messages that follow from a history event are written by an
event consumer after the transition commits (``consumers.py``), each consumer keeping a
durable ``EventCursor``; the message names its event and template and is rendered when
it is delivered."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (gave up)")


class OutboxMessage(models.Model):
    """One message to deliver once: an e-mail, or a webhook call.

    ``dedupe_key`` names the event and the recipient, so the same event is never queued
    twice. A worker claims a row by writing ``lease_token`` and ``lease_until`` with a
    conditional UPDATE before sending; only the holder of the lease marks it sent.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices)
    dedupe_key = models.CharField(_("event key"), max_length=255, unique=True)
    recipient = models.CharField(_("recipient"), max_length=2000)
    language = models.CharField(_("language"), max_length=10, default="en")
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    body_text = models.TextField(_("text body"), blank=True)
    body_html = models.TextField(_("HTML body"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # Messages derived from a history event: rendered from it at delivery time with
    # ``template``; ``subject`` and the bodies keep what was sent, for the mail log.
    event_id = models.BigIntegerField(_("history event"), null=True, blank=True)
    template = models.CharField(_("template"), max_length=100, blank=True)
    # Webhooks: the endpoint (api app) this call belongs to, and its signing secret.
    endpoint_id = models.BigIntegerField(_("endpoint"), null=True, blank=True)
    secret = models.CharField(_("secret"), max_length=200, blank=True)

    status = models.CharField(
        _("status"), max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.recipient} · {self.subject or self.dedupe_key}"


class EventCursor(models.Model):
    """How far one event consumer has read the history, in (transaction id, event id) order.

    A consumer advances its cursor in the same transaction as the messages it derives
    from the events it read, so each event is turned into messages exactly once."""

    consumer = models.CharField(_("consumer"), max_length=50, primary_key=True)
    txid = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("event cursor")
        verbose_name_plural = _("event cursors")

    def __str__(self) -> str:
        return f"{self.consumer} @ {self.txid}/{self.event_id}"
