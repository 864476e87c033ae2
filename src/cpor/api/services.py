"""Writes of the API app: personal tokens, idempotency records and webhook endpoints."""

import datetime
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.models import User
from cpor.api.models import ApiToken, IdempotencyRecord, WebhookEndpoint
from cpor.claims.permissions import require_claim_manager, require_partner_member
from cpor.errors import DomainError, PermissionDenied

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
    return row, token


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != getattr(actor, "pk", None):
        raise PermissionDenied()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token ``raw`` names, with its last-used time refreshed; else None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    # The token, its user and the user's membership and organisation (what every
    # permission check asks next) in one query.
    token = (
        ApiToken.objects.select_related("user__partner_membership__organisation")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def idempotency_records_purge(*, now: datetime.datetime | None = None) -> int:
    """Forget idempotency keys older than the configured lifetime."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    deleted, _counts = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _clean_webhook_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    insecure_ok = parts.scheme == "http" and parts.hostname in settings.API_WEBHOOK_INSECURE_HOSTS
    if not parts.hostname or (parts.scheme != "https" and not insecure_ok):
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
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    require_claim_manager(actor, endpoint.organisation)
    endpoint.delete()
