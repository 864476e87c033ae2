"""Writes of the API app: personal tokens, idempotency records and webhook endpoints."""

import datetime
import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor import retention
from cpor.accounts.models import User
from cpor.api.models import ApiToken, IdempotencyRecord, WebhookDelivery, WebhookEndpoint
from cpor.audit.models import AuditAction
from cpor.audit.services import audit_record
from cpor.claims.permissions import (
    partner_membership,
    require_claim_manager,
    require_partner_member,
)
from cpor.errors import DomainError, PermissionDenied
from cpor.rowload import RowLoader

TOKEN_PREFIX = "cpor_"  # noqa: S105 (the public part every token starts with)
# Refresh ``last_used_at`` at most this often: one write per token and minute, not per call.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor; returns the row and the only copy of the secret."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied()
    name = (name or "").strip()
    if not name:
        raise DomainError("required", _("Name the token."), field="name")
    if len(name) > 100:
        raise DomainError("too_long", _("At most %d characters.") % 100, field="name")
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken.objects.create(
        user=actor, name=name, prefix=prefix, token_hash=hash_token(token)
    )
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN_CREATED,
        organisation=_organisation_id(actor),
        target=row,
        target_label=name,
        after={"name": name, "prefix": prefix},
    )
    return row, token


def _organisation_id(actor: User) -> int | None:
    membership = partner_membership(actor)
    return membership.organisation_id if membership else None


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != getattr(actor, "pk", None):
        raise PermissionDenied()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    if revoked:
        audit_record(
            actor=actor,
            action=AuditAction.TOKEN_REVOKED,
            organisation=_organisation_id(actor),
            target=token,
            target_label=token.name,
            before={"name": token.name, "prefix": token.prefix},
        )
    return token


# The token, its user and the user's membership and organisation (what every permission
# check asks next) in one statement, built once (``cpor.rowload``): the ORM took longer to
# compile it than any other statement of an API request.
_TOKENS = RowLoader(ApiToken, ("user__partner_membership__organisation",))


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token ``raw`` names, with its last-used time refreshed; else None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    token = _TOKENS.first("{row}.prefix = %s AND {row}.revoked_at IS NULL", [prefix])
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def idempotency_records_purge(*, now: datetime.datetime | None = None) -> int:
    """Forget idempotency keys older than the configured lifetime (a periodic job)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    return retention.delete_in_batches(IdempotencyRecord.objects.filter(created_at__lt=cutoff))


def webhook_deliveries_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the delivery log lines of webhook calls delivered longer ago than
    ``RETENTION_SENT_MESSAGES_DAYS``; calls still pending or failing stay."""
    old = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.DELIVERED,
        delivered_at__lt=retention.cutoff(settings.RETENTION_SENT_MESSAGES_DAYS, now=now),
    )
    return retention.delete_in_batches(old)


# A host name and an optional port and path, nothing a URL parser could read two ways;
# the schema documents the https:// form.
WEBHOOK_URL_PATTERN = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$"


def _clean_webhook_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url) if re.match(r"^https?://", url) else None
    insecure_ok = (
        parts is not None
        and parts.scheme == "http"
        and parts.hostname in settings.API_WEBHOOK_INSECURE_HOSTS
    )
    secure_ok = re.fullmatch(WEBHOOK_URL_PATTERN, url) is not None
    if not (secure_ok or insecure_ok):
        raise DomainError(
            "webhook_url_not_https",
            _("A webhook endpoint must be an https:// URL."),
            field="url",
        )
    if len(url) > 500:
        raise DomainError("too_long", _("At most %d characters.") % 500, field="url")
    return url


@transaction.atomic
def webhook_endpoint_create(
    *, actor: User, url: str, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the actor's organisation; returns it and its secret."""
    membership = require_partner_member(actor)
    require_claim_manager(actor, membership.organisation)
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    endpoint = WebhookEndpoint.objects.create(
        organisation=membership.organisation,
        url=_clean_webhook_url(url),
        secret=secret,
        description=(description or "").strip()[:200],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_CREATED,
        organisation=membership.organisation,
        target=endpoint,
        target_label=endpoint.url,
        after={"url": endpoint.url, "description": endpoint.description},
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    require_claim_manager(actor, endpoint.organisation)
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_DELETED,
        organisation=endpoint.organisation_id,
        target=endpoint,
        target_label=endpoint.url,
        before={"url": endpoint.url, "description": endpoint.description},
    )
    endpoint.delete()
