from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from cpor.catalog.selectors import catalog_overview


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"areas": catalog_overview()})


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and `make run` checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
