"""The audit trail page and its CSV export (partner admins: their organisation; program
staff: every organisation)."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cpor.audit import selectors
from cpor.audit.forms import AuditFilterForm
from cpor.audit.models import AuditAction
from cpor.audit.services import audit_record
from cpor.csv_export import csv_response

CSV_HEADER = (
    "id",
    "at",
    "actor",
    "organisation",
    "action",
    "object_type",
    "object",
    "object_name",
    "before",
    "after",
)


def _form(request: HttpRequest) -> AuditFilterForm:
    if not selectors.may_read_audit(request.user):
        raise PermissionDenied
    return AuditFilterForm(request.GET or None, operator=request.user.is_operator)


@never_cache
@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    valid = form.is_valid() if request.GET else True
    filters = form.filters() if request.GET and valid else selectors.AuditFilters()
    entries = list(
        selectors.audit_list(actor=request.user, filters=filters)[: selectors.PAGE_SIZE + 1]
    )
    more = len(entries) > selectors.PAGE_SIZE
    entries = entries[: selectors.PAGE_SIZE]
    next_query = None
    if more:
        query = request.GET.copy()
        query["before"] = entries[-1].pk
        next_query = query.urlencode()
    export_query = request.GET.copy()
    export_query.pop("before", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "entries": entries,
            "next_query": next_query,
            "export_query": export_query.urlencode(),
        },
        status=200 if valid else 400,
    )


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if request.GET and not form.is_valid():
        return render(request, "audit/list.html", {"form": form, "entries": []}, status=400)
    filters = form.filters() if request.GET else selectors.AuditFilters()
    entries = selectors.audit_list(actor=request.user, filters=filters)
    membership = getattr(request.user, "partner_membership", None)
    audit_record(
        actor=request.user,
        action=AuditAction.AUDIT_EXPORTED,
        organisation=None if request.user.is_operator else membership.organisation_id,
        target_type="audit",
        target_label=_("Audit trail"),
        after={"filters": request.GET.dict()},
    )
    rows = (
        (
            entry.pk,
            entry.at.isoformat(),
            entry.actor_email,
            entry.organisation.name if entry.organisation else "",
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.target_label,
            _json(entry.before),
            _json(entry.after),
        )
        for entry in entries.iterator(chunk_size=2000)
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return csv_response(CSV_HEADER, rows, filename=f"audit-{stamp}.csv")


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
