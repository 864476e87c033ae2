"""The transactional outbox: every notification is a row written in the same
transaction as the state change that causes it, then delivered (and retried) apart."""

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
