"""Tags of the page shell: navigation links that know whether they lead to the current page."""

from django import template
from django.urls import reverse

register = template.Library()


def _matches(path: str, pattern: str) -> bool:
    # "/a/$" matches that path only, "/a/" every path under it.
    if pattern.endswith("$"):
        return path == pattern[:-1]
    return path.startswith(pattern)


@register.inclusion_tag("web/components/nav_link.html", takes_context=True)
def nav_link(context, url_name: str, label: str, match: str = "") -> dict:
    """A link of the left navigation, marked current when the page's path matches one of
    ``match``'s patterns, separated by "|" (default: every path under the link's own)."""
    href = reverse(url_name)
    request = context.get("request")
    path = request.path if request else ""
    patterns = (match or href).split("|")
    current = any(_matches(path, pattern) for pattern in patterns)
    return {"href": href, "label": label, "current": current}


@register.inclusion_tag("web/components/breadcrumbs.html")
def breadcrumbs(*trail: str) -> dict:
    """Breadcrumbs after the start page: pairs of (URL name or path, label); the last pair
    is the current page, and its URL may be empty."""
    pairs = list(zip(trail[::2], trail[1::2], strict=True))
    items = []
    for index, (target, label) in enumerate(pairs):
        current = index == len(pairs) - 1
        href = "" if current or not target else (target if "/" in target else reverse(target))
        items.append({"href": href, "label": label, "current": current})
    return {"items": items}
