"""The two history export pages: the program admin's full audit trail and a partner's
claim histories. A page shows the period and the format; the same form, sent, streams
the file (``cpor.audit.exports``)."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from cpor.audit import exports
from cpor.audit.forms import HistoryExportForm


def streamed(export: exports.Export) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export.lines, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


def _page(
    request: HttpRequest,
    *,
    may: Callable,
    export: Callable[..., exports.Export],
    scope: str,
) -> HttpResponse:
    if not may(request.user):
        raise PermissionDenied
    if "output" not in request.GET:
        form = HistoryExportForm(initial={"output": exports.CSV})
        return render(request, "audit/export.html", {"form": form, "scope": scope})
    form = HistoryExportForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/export.html", {"form": form, "scope": scope}, status=400)
    return streamed(
        export(actor=request.user, period=form.period(), output=form.cleaned_data["output"])
    )


@never_cache
@login_required
def full_trail(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        may=exports.may_export_full_trail,
        export=exports.full_trail_export,
        scope="program",
    )


@never_cache
@login_required
def claim_histories(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        may=exports.may_export_claim_histories,
        export=exports.claim_history_export,
        scope="partner",
    )
