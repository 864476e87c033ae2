"""The partner usage dashboard, one unit's usage, the CSV export, and the program
admin's upload page. Thin: parse, call a selector or the import service, render."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.claims.models import Association
from cpor.claims.permissions import partner_membership
from cpor.csv_export import csv_response
from cpor.usage import selectors
from cpor.usage.charts import usage_chart
from cpor.usage.forms import PeriodForm, UsageImportForm
from cpor.usage.services import usage_import

UNITS_PER_PAGE = 25


def _require_partner(request: HttpRequest) -> None:
    if partner_membership(request.user) is None:
        raise PermissionDenied(_("Only partner users see usage."))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_partner(request)
    period = PeriodForm(request.GET)
    months = period.months_or_default()
    page = Paginator(selectors.active_units(actor=request.user), UNITS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    units = selectors.unit_usage(actor=request.user, units=list(page), months=months)
    totals = selectors.usage_totals(actor=request.user, months=months)
    window = [t.month for t in totals]
    workload_chart = usage_chart(
        months=window,
        licensed=[t.paid_units for t in totals],
        active=[t.active_users for t in totals],
    )
    currencies = sorted({c for t in totals for c in t.revenue})
    return render(
        request,
        "usage/dashboard.html",
        {
            "period": period,
            "months": months,
            "page": page,
            "units": units,
            "totals": totals,
            "currencies": currencies,
            "chart": workload_chart,
            "has_subscriptions": any(t.licensed_units for t in totals),
        },
    )


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_partner(request)
    months = PeriodForm(request.GET).months_or_default()
    try:
        unit = selectors.unit_usage_get(actor=request.user, pk=pk, months=months)
    except Association.DoesNotExist:
        return _unit_ended(request, pk)
    chart = usage_chart(
        months=[m.month for m in unit.months],
        licensed=[m.licensed for m in unit.months],
        active=[None if unit.is_subscription else m.active for m in unit.months],
        baseline=unit.baseline,
        started=unit.started,
    )
    return render(
        request,
        "usage/unit.html",
        {"unit": unit, "chart": chart, "period": PeriodForm(request.GET), "months": months},
    )


def _unit_ended(request: HttpRequest, pk: int) -> HttpResponse:
    """410 Gone with how and when the organisation's own association ended; any other
    unknown unit (another partner's, never held) stays a plain 404."""
    try:
        association = selectors.ended_unit_get(actor=request.user, pk=pk)
    except Association.DoesNotExist:
        raise Http404 from None
    return render(request, "usage/unit_ended.html", {"association": association}, status=410)


@login_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_partner(request)
    months = PeriodForm(request.GET).months_or_default()
    stamp = timezone.localdate().strftime("%Y-%m-%d")
    return csv_response(
        selectors.EXPORT_COLUMNS,
        selectors.usage_export_rows(actor=request.user, months=months),
        filename=f"usage-{stamp}.csv",
    )


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    if not request.user.is_program_admin:
        raise PermissionDenied(_("Only a program admin can import usage."))
    report = None
    form = UsageImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = usage_import(file=form.cleaned_data["file"].file, actor=request.user)
        if report.error:
            form.add_error("file", report.error.message)
    return render(
        request,
        "usage/import.html",
        {"form": form, "report": report},
        status=400 if report and report.error else 200,
    )
