"""The Jinja2 environment of the list rows (settings.TEMPLATES, "rows").

A row template gets its words already translated and its dates already formatted by
the view, so the environment needs no gettext; what it adds are Django's own filters
the rows use, so that a row prints exactly what Django's engine printed. A name the
template misspells raises instead of printing nothing."""

from django.template.defaultfilters import truncatechars
from jinja2 import Environment, StrictUndefined


def environment(**options) -> Environment:
    # Escaping is on whatever the options say: the tag marks the rows' output safe.
    options.update(autoescape=True, undefined=StrictUndefined)
    env = Environment(**options)  # noqa: S701 (autoescape is set just above)
    env.filters["truncatechars"] = truncatechars
    return env
