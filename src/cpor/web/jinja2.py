"""The Jinja2 environment of the list rows (settings.TEMPLATES, "rows").

A row template gets its words already translated and its dates already formatted by
the view, so the environment needs no gettext; what it adds are Django's own filters
the rows use, so that a row prints exactly what Django's engine printed. A name the
template misspells raises instead of printing nothing."""

from django.template.defaultfilters import truncatechars as django_truncatechars
from django.utils.text import add_truncation_text, calculate_truncate_chars_length
from jinja2 import Environment, StrictUndefined


def truncatechars(value, length: int) -> str:
    """Django's ``truncatechars``, without its Unicode pass for ASCII text (subscription
    ids, 50 a page): no combining characters to skip, nothing to normalise, and the same
    translated ellipsis."""
    text = str(value)
    if not text.isascii() or length <= 0:
        return django_truncatechars(value, length)
    if len(text) <= length:
        return text
    return add_truncation_text(text[: calculate_truncate_chars_length(length, None)])


def environment(**options) -> Environment:
    # Escaping is on whatever the options say: the tag marks the rows' output safe.
    options.update(autoescape=True, undefined=StrictUndefined)
    env = Environment(**options)  # noqa: S701 (autoescape is set just above)
    env.filters["truncatechars"] = truncatechars
    return env
