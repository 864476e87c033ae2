"""The claim list (Incentives → Customer claims) and its CSV export."""

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cpor.catalog.models import PartnerRole, SolutionArea
from cpor.claims import forms
from cpor.claims.models import ClaimStatus
from cpor.claims.permissions import partner_membership
from cpor.claims.selectors import (
    DEFAULT_CLAIM_SORT,
    TENANT_UNCONFIRMED,
    ListedClaim,
    claim_list_page,
    claim_list_page_rows,
    claims_needing_action_count,
)
from cpor.claims.status_display import (
    claim_status_badge,
    claim_status_label,
    mark_ended_approvals,
)
from cpor.claims.views.common import _user_can_manage
from cpor.csv_export import csv_response
from cpor.formats import LocalDays
from cpor.keyset import InvalidCursor

# ---------------------------------------------------------------------------
# The claim list


PAGE_SIZE = 50


def _list_filters(request: HttpRequest, areas=None) -> forms.ClaimFilterForm:
    return forms.ClaimFilterForm(
        request.GET or None,
        areas=SolutionArea.objects.all() if areas is None else areas,
        roles=PartnerRole.objects.filter(active=True),
    )


def _label_rows(claims: list[ListedClaim]) -> None:
    """Give each row what it shows, ready to print: status labels translated once per
    page rather than once per row, dates in the local time zone, the detail link (the
    list's URL and the claim's number) without a URL reversal per row. An approval that
    ended says how (``mark_ended_approvals`` first)."""
    statuses = {value: str(label) for value, label in ClaimStatus.choices}
    unconfirmed = str(TENANT_UNCONFIRMED)
    detail = reverse("claims:list")
    day = LocalDays()
    for claim in claims:
        if claim.ended_reason:
            claim.status_label = claim_status_label(claim.status, claim.ended_reason)
        else:
            claim.status_label = statuses.get(claim.status, claim.status)
        claim.status_badge = claim_status_badge(claim.status, claim.ended_reason)
        claim.url = f"{detail}{claim.pk}/"
        # A partner sees the tenant's name only with a relationship (claim_list says).
        claim.tenant_label = claim.tenant_name if claim.tenant_related else unconfirmed
        claim.created_on = day(claim.created_at)
        claim.submitted_on = day(claim.submitted_at) if claim.submitted_at else "—"


def _column_labels() -> dict[str, str]:
    """The column names again on each row, for the cards a phone shows (data-label),
    translated once per page."""
    return {
        "area": _("Solution area"),
        "role": _("Partner role"),
        "tenant": _("Customer tenant"),
        "units": _("Workloads or subscriptions"),
        "partner_id": _("PartnerID"),
        "created": _("Created"),
        "submitted": _("Submitted"),
    }


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@login_required
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """Incentives → Customer claims: one page by keyset (``cursor``), a count that stops
    at ``CLAIM_COUNT_LIMIT`` unless the exact one is asked for (``count=exact``)."""
    areas = list(SolutionArea.objects.all())  # the filter's choices and the Add buttons
    filter_form = _list_filters(request, areas)
    filters = filter_form.filters()  # no filter when the form is unbound or invalid
    sort = request.GET.get("sort", DEFAULT_CLAIM_SORT)
    listing = {
        "actor": request.user,
        "filters": filters,
        "sort": sort,
        "size": PAGE_SIZE,
        "count": True,
        "exact": request.GET.get("count") == "exact",
    }
    status, cursor_error = 200, ""
    try:
        page = claim_list_page(cursor=request.GET.get("cursor") or None, **listing)
    except InvalidCursor as error:
        # Say so, and show the first page: the reader loses nothing but the position.
        status, cursor_error = 400, error.message
        page = claim_list_page(**listing)
    count, more = page.total
    mark_ended_approvals(page.rows)
    _label_rows(page.rows)
    needing_action = (
        claims_needing_action_count(actor=request.user)
        if partner_membership(request.user)
        else (0, False)
    )
    return render(
        request,
        "claims/list.html",
        {
            "filter_form": filter_form,
            "page": page,
            "count": count,
            "count_more": more,
            # More than ``count`` claims fill at least one page more than ``count`` does.
            "count_pages": count // PAGE_SIZE + 1 if more else -(-count // PAGE_SIZE),
            "sort": sort,
            "query": _query_without(request, "cursor", "count"),
            "count_query": _query_without(request, "count"),
            "sort_query": _query_without(request, "cursor", "count", "sort"),
            "action_required": needing_action[0],
            "action_required_more": needing_action[1],
            "cursor_error": cursor_error,
            "can_manage": _user_can_manage(request),
            "areas": areas,
            "labels": _column_labels(),
        },
        status=status,
    )


@login_required
@require_GET
def claim_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed so any size fits in constant memory."""
    filters = _list_filters(request).filters()
    rows = claim_list_page_rows(
        actor=request.user, filters=filters, sort=request.GET.get("sort", "-created")
    )
    header = [
        _("Claim name"),
        _("Status"),
        _("Solution area"),
        _("Partner role"),
        _("Customer tenant"),
        _("Tenant ID"),
        _("Workloads or subscriptions"),
        _("PartnerID"),
        _("Created"),
        _("Submitted"),
    ]

    unconfirmed = str(TENANT_UNCONFIRMED)

    def lines() -> Iterator[list]:
        for claim in rows.iterator(chunk_size=2000):
            units = "; ".join(str(line) for line in claim.lines.all())
            yield [
                claim.name,
                claim.get_status_display(),
                claim.role.solution_area.display_name,
                claim.role.display_name,
                claim.tenant.name if claim.tenant_related else unconfirmed,
                claim.tenant.tenant_id,
                units,
                claim.location.partner_id,
                claim.created_at.isoformat(timespec="minutes"),
                claim.submitted_at.isoformat(timespec="minutes") if claim.submitted_at else "",
            ]

    stamp = timezone.localdate().isoformat()
    return csv_response(header, lines(), filename=f"customer-claims-{stamp}.csv")
