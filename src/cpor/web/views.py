from contextlib import suppress

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from cpor.accounts.services import user_set_language
from cpor.catalog.selectors import catalog_overview, coop_programs
from cpor.errors import DomainError


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    # A customer admin has nothing to claim: their start page is their partners and the
    # requests about their organisation.
    if (
        user.is_authenticated
        and hasattr(user, "customer_admin")
        and not hasattr(user, "partner_membership")
        and not user.is_operator
    ):
        return redirect("consent:overview")
    return render(
        request,
        "web/home.html",
        {"areas": catalog_overview(), "coop_programs": coop_programs()},
    )


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and `make run` checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switcher, which also remembers a signed-in user's choice."""
    if request.user.is_authenticated:
        # Django's view below ignores an unknown language the same way.
        with suppress(DomainError):
            user_set_language(user=request.user, language=request.POST.get("language", ""))
    return django_set_language(request)
