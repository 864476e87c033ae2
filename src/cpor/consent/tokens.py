"""Decline-link tokens: a random nonce, signed with a purpose-specific salt.

Tampering breaks the signature; an unknown nonce, or a link past its expiry, opens
nothing. The token says nothing about the claim or the tenant."""

import datetime
import secrets

from django.conf import settings
from django.core import signing
from django.utils import timezone

from cpor.claims.models import Claim
from cpor.consent.models import DeclineLink

SALT = "cpor.consent.decline-link"


class LinkInvalid(Exception):
    """Malformed, tampered or unknown."""


class LinkExpired(Exception):
    pass


def decline_link_create(*, claim: Claim, email: str, now: datetime.datetime | None = None) -> str:
    """Store a new link for ``email`` to decline ``claim``'s units; return its token."""
    now = now or timezone.now()
    link = DeclineLink.objects.create(
        nonce=secrets.token_urlsafe(24),
        claim=claim,
        email=email,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.CPOR_DECLINE_LINK_DAYS),
    )
    return signing.dumps(link.nonce, salt=SALT)


def decline_links_create(
    pairs: list[tuple[Claim, str]], *, now: datetime.datetime | None = None
) -> list[str]:
    """One new link per (claim, e-mail), written in one statement; their tokens in order."""
    now = now or timezone.now()
    expires_at = now + datetime.timedelta(days=settings.CPOR_DECLINE_LINK_DAYS)
    links = [
        DeclineLink(
            nonce=secrets.token_urlsafe(24),
            claim=claim,
            email=email,
            created_at=now,
            expires_at=expires_at,
        )
        for claim, email in pairs
    ]
    DeclineLink.objects.bulk_create(links)
    return [signing.dumps(link.nonce, salt=SALT) for link in links]


def decline_link_url(token: str) -> str:
    return f"{settings.CPOR_BASE_URL.rstrip('/')}/customer/decline/{token}/"


def decline_link_open(token: str, *, now: datetime.datetime | None = None) -> DeclineLink:
    """The link a token names, or ``LinkInvalid`` / ``LinkExpired``."""
    now = now or timezone.now()
    if not isinstance(token, str) or len(token) > 200:
        raise LinkInvalid
    try:
        nonce = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise LinkInvalid from None
    if not isinstance(nonce, str):
        raise LinkInvalid
    link = (
        DeclineLink.objects.select_related(
            "claim__organisation", "claim__location", "claim__tenant", "claim__role"
        )
        .filter(nonce=nonce)
        .first()
    )
    if link is None:
        raise LinkInvalid
    if link.expires_at <= now:
        raise LinkExpired
    return link
