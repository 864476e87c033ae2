"""The program admin's customer import page (under /review/admin/import/)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cpor.accounts.decorators import program_admin_required
from cpor.customers import selectors, services
from cpor.customers.forms import ImportForm

MAX_ERRORS_SHOWN = 500


@program_admin_required
def customer_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        files = [
            services.ImportFile(name=f.name, content=f.read()) for f in form.cleaned_data["files"]
        ]
        report = services.customers_import(
            actor=request.user, files=files, dry_run=form.cleaned_data["dry_run"]
        )
    status = 400 if (form.errors or (report and not report.ok)) else 200
    return render(
        request,
        "customers/import.html",
        {
            "form": form,
            "report": report,
            "errors": report.errors[:MAX_ERRORS_SHOWN] if report else [],
            "formats": [
                (kind, required + optional, help_text)
                for kind, (required, optional, help_text) in services.IMPORT_FORMATS.items()
            ],
            "totals": selectors.customer_totals(actor=request.user),
            "max_errors": MAX_ERRORS_SHOWN,
        },
        status=status,
    )
