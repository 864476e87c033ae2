"""Builders for the consent tests: a submitted claim with its e-mailed decline link."""

import re

from cpor.consent.models import DeclineLink
from cpor.notifications.models import OutboxMessage
from cpor.testing.events import consume_events, rendered

LINK = re.compile(r"https?://[^\s\"<>]+/customer/decline/[^\s\"<>/]+/")


def decline_links_in(text: str) -> list[str]:
    return LINK.findall(text)


def decline_url_for(claim, email: str | None = None) -> str:
    """The path of the decline link e-mailed for ``claim`` (to ``email``, or the first)."""
    consume_events()
    messages = OutboxMessage.objects.filter(dedupe_key__contains=":customer:").order_by("id")
    for message in map(rendered, messages):
        if email and message.recipient != email:
            continue
        for url in decline_links_in(message.body_text):
            path = url.split("://", 1)[1].split("/", 1)[1]
            link = DeclineLink.objects.filter(claim=claim, email=message.recipient).exists()
            if link and claim.name in message.body_text:
                return "/" + path
    raise AssertionError(f"no decline link e-mailed for {claim}")
