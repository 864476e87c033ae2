"""Tags of the page shell: navigation links that know whether they lead to the current page."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


def _matches(path: str, pattern: str) -> bool:
    # "/a/$" matches that path only, "/a/" every path under it.
    if pattern.endswith("$"):
        return path == pattern[:-1]
    return path.startswith(pattern)


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str, match: str = "") -> str:
    """A link of the left navigation, marked current when the page's path matches one of
    ``match``'s patterns, separated by "|" (default: every path under the link's own).

    Built here rather than by including a template: a page's menu has up to 17 links,
    and each include cost about as much as the rest of the link."""
    href = reverse(url_name)
    request = context.get("request")
    path = request.path if request else ""
    patterns = (match or href).split("|")
    if any(_matches(path, pattern) for pattern in patterns):
        return format_html(
            '<li class="nav-item"><a class="nav-link active" aria-current="page" href="{}">'
            "{}</a></li>",
            href,
            label,
        )
    return format_html(
        '<li class="nav-item"><a class="nav-link" href="{}">{}</a></li>', href, label
    )


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
