"""The partner's earnings pages, the program's liability, and the program admin's rate
cards (under /review/admin/rate-cards/). Thin: parse, call a selector or service, render."""

from decimal import ROUND_HALF_UP

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cpor.accounts.decorators import program_admin_required
from cpor.catalog.models import Engagement
from cpor.claims.models import Association
from cpor.claims.permissions import partner_membership
from cpor.csv_export import csv_response
from cpor.earnings import selectors, services
from cpor.earnings.forms import RateCardForm, add_errors
from cpor.earnings.models import RateCard
from cpor.earnings.money import CURRENCIES
from cpor.errors import DomainError
from cpor.usage.charts import Chart, usage_chart
from cpor.usage.forms import PeriodForm

ASSOCIATIONS_PER_PAGE = 25


def _require_partner(request: HttpRequest) -> None:
    if partner_membership(request.user) is None:
        raise PermissionDenied(_("Only partner users see earnings estimates."))


def _window(request: HttpRequest) -> tuple[PeriodForm, int, list]:
    period = PeriodForm(request.GET)
    months = period.months_or_default()
    return period, months, selectors.month_window(months)


def _chart(totals: selectors.EarningsTotals) -> tuple[Chart | None, str]:
    """Bars of the monthly estimate in the first currency, in whole units (the chart's
    geometry only: the tables beside it carry the exact amounts)."""
    if not totals.currencies:
        return None, ""
    currency = totals.currencies[0]
    bars = [
        int(amounts[currency].to_integral_value(ROUND_HALF_UP)) if currency in amounts else None
        for amounts in totals.by_month.values()
    ]
    return usage_chart(months=totals.months, licensed=bars, active=[None] * len(bars)), currency


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_partner(request)
    period, months, window = _window(request)
    page = Paginator(selectors.partner_associations(actor=request.user), ASSOCIATIONS_PER_PAGE)
    page = page.get_page(request.GET.get("page"))
    totals = selectors.earnings_totals(actor=request.user, months=window)
    chart, chart_currency = _chart(totals)
    return render(
        request,
        "earnings/dashboard.html",
        {
            "period": period,
            "months": months,
            "page": page,
            "earnings": selectors.association_earnings(associations=list(page), months=window),
            "totals": totals,
            "chart": chart,
            "chart_currency": chart_currency,
        },
    )


@login_required
def association_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_partner(request)
    period, months, window = _window(request)
    try:
        earnings = selectors.earnings_get(actor=request.user, pk=pk, months=window)
    except Association.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "earnings/association.html",
        {"period": period, "months": months, "item": earnings},
    )


@login_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_partner(request)
    _period, _months, window = _window(request)
    stamp = timezone.localdate().strftime("%Y-%m-%d")
    return csv_response(
        selectors.EXPORT_COLUMNS,
        selectors.earnings_export_rows(actor=request.user, months=window),
        filename=f"earnings-{stamp}.csv",
    )


@program_admin_required
def liability(request: HttpRequest) -> HttpResponse:
    period, months, window = _window(request)
    result = selectors.program_liability(actor=request.user, months=window)
    if request.GET.get("format") == "csv":
        stamp = timezone.localdate().strftime("%Y-%m-%d")
        return csv_response(
            selectors.LIABILITY_COLUMNS,
            selectors.liability_export_rows(result),
            filename=f"liability-{stamp}.csv",
        )
    return render(
        request,
        "earnings/liability.html",
        {"period": period, "months": months, "liability": result},
    )


@program_admin_required
def rate_cards(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "earnings/rate_cards.html",
        {
            "engagements": Engagement.objects.select_related("solution_area").prefetch_related(
                "rate_cards"
            ),
        },
    )


@program_admin_required
def rate_card_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    card = get_object_or_404(RateCard, pk=pk) if pk else None
    initial = {}
    if card is None and request.GET.get("engagement", "").isdigit():
        initial["engagement"] = int(request.GET["engagement"])
    form = RateCardForm(request.POST or None, instance=card, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.rate_card_save(actor=request.user, card=card, values=form.cleaned_data)
        except DomainError as error:  # ValidationFailed carries every problem at once
            add_errors(form, error)
        else:
            messages.success(request, _("Rate card saved."))
            return redirect("earnings_admin:rate_cards")
    return render(
        request,
        "earnings/rate_card_form.html",
        {"form": form, "card": card, "currencies": sorted(CURRENCIES)},
        status=400 if form.is_bound else 200,
    )


@program_admin_required
def rate_card_delete(request: HttpRequest, pk: int) -> HttpResponse:
    card = get_object_or_404(RateCard, pk=pk)
    if request.method == "POST":
        services.rate_card_delete(actor=request.user, card=card)
        messages.success(request, _("Rate card deleted."))
        return redirect("earnings_admin:rate_cards")
    return render(request, "earnings/rate_card_delete.html", {"card": card})
