"""Who may open the operator's pages: the decorators every review and admin view uses.

Anonymous visitors are sent to sign in; signed-in partner or customer users get 403.
The services check again (decisions are reviewers' only), so a view can never be the
only guard."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def _require(test: Callable) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


operator_required = _require(lambda user: user.is_operator)
program_admin_required = _require(lambda user: user.is_program_admin)
