"""History messages the system wrote, shown in the reader's language.

An event's ``message`` is sealed (``claims.integrity``) and was written in the language
active at that moment, so it is never rewritten. At display time a message that one of
these templates produced, in English or in Portuguese, is recognised, its values taken
out and the template rendered again in the reader's language; anything else (what a
person wrote) shows as written."""

import re
from functools import cache

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from cpor.claims.models import Claim, PoEType

# The services' wording (the same msgids, so one translation serves both).
TEMPLATES = (
    gettext_noop("%(type)s signed on %(day)s by %(who)s."),
    gettext_noop(
        "Legacy association imported from %(source)s (associated on %(day)s). It "
        "lasts until subscription %(sub)s ends on %(end)s; claim the subscription "
        "again to stay partner of record after that."
    ),
    gettext_noop("Replaced by the partner's approved claim #%d."),
    gettext_noop("Superseded by a claim with more recent PoE."),
    gettext_noop("Changed: %s."),
    gettext_noop("Carried over from %(old)s to renewal %(new)s."),
    gettext_noop("Subscription %(id)s ended on %(day)s."),
    gettext_noop(
        "Subscription %(id)s ends on %(day)s: submit a claim for it to stay partner of record."
    ),
    gettext_noop("Expires on %s unless edited."),
    gettext_noop("Untouched since %s."),
    gettext_noop("No answer by the deadline."),
    gettext_noop("Reassigned from %(away)s (away) to %(to)s."),
    gettext_noop("Unassigned from %s (away): no reviewer on duty."),
)
LANGUAGES = ("en", "pt-pt")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def _labels() -> list:
    """Labels a message may carry as a value, written in the writer's language."""
    fields = [f.verbose_name for f in Claim._meta.get_fields() if hasattr(f, "verbose_name")]
    return [*PoEType.labels, *fields]


@cache
def _patterns() -> list[tuple[str, re.Pattern]]:
    patterns = []
    for msgid in TEMPLATES:
        for language in LANGUAGES:
            with translation.override(language):
                text = gettext(msgid)
            parts, last, positional = [], 0, 0
            for match in PLACEHOLDER.finditer(text):
                parts.append(re.escape(text[last : match.start()]))
                name = match.group(1) or f"_{positional}"
                positional += not match.group(1)
                parts.append(f"(?P<{name}>.+?)")
                last = match.end()
            parts.append(re.escape(text[last:]))
            patterns.append((msgid, re.compile("".join(parts), re.DOTALL)))
    return patterns


@cache
def _label_msgids() -> dict[str, object]:
    """Each label as written in any language → the lazy label (renders in the reader's)."""
    found = {}
    for label in _labels():
        for language in LANGUAGES:
            with translation.override(language):
                found[str(label)] = label
    return found


def _value(value: str) -> str:
    labels = _label_msgids()
    if value in labels:
        return str(labels[value])
    # "Changed: claim name, customer contact." lists field names.
    parts = value.split(", ")
    if len(parts) > 1 and all(part in labels for part in parts):
        return ", ".join(str(labels[part]) for part in parts)
    return value


def history_message(message: str) -> str:
    """The message in the active language when the system wrote it; else as written."""
    if not message:
        return message
    for msgid, pattern in _patterns():
        match = pattern.fullmatch(message)
        if match is None:
            continue
        values = {k: _value(v) for k, v in match.groupdict().items()}
        text = gettext(msgid)
        if "%(" in text:
            return text % values
        positional = [values[k] for k in sorted(values)]
        if "%d" in text:
            return text.replace("%d", "%s") % tuple(positional)
        return text % tuple(positional) if positional else text
    return message
