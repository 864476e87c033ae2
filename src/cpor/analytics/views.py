"""The analytics dashboard and each table's CSV export. Thin: parse the filters, ask the
selectors, draw, render."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from cpor.accounts.decorators import operator_required
from cpor.analytics import selectors
from cpor.analytics.charts import bar_chart
from cpor.analytics.forms import AnalyticsFilterForm
from cpor.csv_export import csv_response


@operator_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form = AnalyticsFilterForm(request.GET)
    sections, computed_at = [], None
    if form.is_valid():
        filters = form.filters()
        query = urlencode(filters.as_query())
        tables = selectors.all_reports(filters)
        for table in tables:
            csv_url = f"{reverse('analytics:csv', args=[table.key])}?{query}"
            sections.append({"table": table, "chart": bar_chart(table), "csv_url": csv_url})
        computed_at = min(table.computed_at for table in tables)
    status = 200 if form.is_valid() else 400
    context = {
        "form": form,
        "sections": sections,
        "computed_at": computed_at,
        "kept_minutes": settings.ANALYTICS_CACHE_SECONDS // 60,
    }
    return render(request, "analytics/dashboard.html", context, status=status)


@operator_required
def table_csv(request: HttpRequest, key: str) -> HttpResponse:
    if key not in selectors.REPORTS:
        raise Http404
    form = AnalyticsFilterForm(request.GET)
    if not form.is_valid():
        return render(
            request, "analytics/dashboard.html", {"form": form, "sections": []}, status=400
        )
    filters = form.filters()
    table = selectors.report(key, filters)
    return csv_response(
        [column.key for column in table.columns],
        table.rows,
        filename=f"cpor-{key}-{filters.start}-{filters.end}.csv",
    )
