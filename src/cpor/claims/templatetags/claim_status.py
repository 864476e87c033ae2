"""``{% claim_status claim %}``: the claim's status badge, saying how an approval ended
when the claim carries ``ended_reason`` (``status_display.mark_ended_approvals``)."""

from django import template
from django.utils.html import format_html

from cpor.claims.models import Claim
from cpor.claims.status_display import claim_status_badge, claim_status_label

register = template.Library()


@register.simple_tag
def claim_status(claim: Claim, extra_class: str = "") -> str:
    ended = getattr(claim, "ended_reason", "")
    return format_html(
        '<span class="badge {}{}" data-status="{}">{}</span>',
        claim_status_badge(claim.status, ended),
        f" {extra_class}" if extra_class else "",
        claim.status,
        claim_status_label(claim.status, ended),
    )
