"""A second step before an irreversible action, working without JavaScript.

The first POST of such a form writes nothing: it answers with a page saying what will
happen, whose button posts the same fields again with ``confirm=1``; only that second
POST acts. The API has no such step: an API client confirms by calling.
"""

from collections.abc import Iterable, Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirm"


def is_confirmed(request: HttpRequest) -> bool:
    return request.POST.get(CONFIRM_FIELD) == "1"


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: Sequence[str],
    action: str,
    fields: Iterable[tuple[str, object]],
    button: str,
    back: str,
    details: Sequence[tuple[str, str]] = (),
) -> HttpResponse:
    """The page asking to confirm: ``consequences`` say what will happen, ``details``
    (label, value) repeat what was chosen, ``fields`` are posted again with the button,
    ``back`` leaves without doing anything."""
    return render(
        request,
        "web/confirm.html",
        {
            "title": title,
            "consequences": consequences,
            "details": details,
            "action": action,
            "fields": [(name, "" if value is None else str(value)) for name, value in fields],
            "confirm_field": CONFIRM_FIELD,
            "button": button,
            "back": back,
        },
    )
