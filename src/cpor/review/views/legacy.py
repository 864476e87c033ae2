"""The program admin's legacy association import (under /review/admin/legacy/)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cpor.accounts.decorators import program_admin_required
from cpor.claims import services
from cpor.errors import DomainError
from cpor.forms import add_domain_error
from cpor.review import selectors
from cpor.review.forms import LegacyImportForm

MAX_ERRORS_SHOWN = 500


@program_admin_required
def legacy_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV: checked row by row; written all at once unless it is a dry run."""
    form = LegacyImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = services.legacy_associations_import(
                actor=request.user,
                content=upload.read(),
                file_name=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
        except DomainError as error:
            add_domain_error(form, error)
    status = 400 if (form.errors or (report and not report.ok)) else 200
    return render(
        request,
        "review/legacy_import.html",
        {
            "form": form,
            "report": report,
            "errors": report.errors[:MAX_ERRORS_SHOWN] if report else [],
            "max_errors": MAX_ERRORS_SHOWN,
            "columns": services.LEGACY_COLUMNS,
            "optional_columns": services.LEGACY_OPTIONAL_COLUMNS,
            "imports": selectors.legacy_imports(actor=request.user)[:10],
            "notice_days": services.legacy_notice_days(),
        },
        status=status,
    )
