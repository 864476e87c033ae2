"""The program admin's customer import page (under /review/admin/import/), and the
customer admin's partner invitations (/customer/partners/)."""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cpor.accounts.decorators import program_admin_required
from cpor.customers import relationships, selectors, services
from cpor.customers.forms import ImportForm
from cpor.errors import DomainError

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


# ---------------------------------------------------------------------------
# The customer admin's partner invitations (/customer/partners/)


class InvitationForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("For which partner (a note for yourself)"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Optional, e.g. the partner's name."),
    )


def _customer_tenant(request: HttpRequest):
    tenant = relationships.customer_tenant(request.user)
    if tenant is None:
        raise PermissionDenied
    return tenant


def invitation_link(code: str) -> str:
    """Where a partner admin accepts the invitation, the code filled in."""
    path = reverse("organisation:relationships")
    return f"{settings.CPOR_BASE_URL.rstrip('/')}{path}?{urlencode({'code': code})}"


@never_cache
@login_required
def partner_invitations(request: HttpRequest) -> HttpResponse:
    tenant = _customer_tenant(request)
    form = InvitationForm(request.POST or None)
    new_code = None
    if request.method == "POST" and form.is_valid():
        _invitation, new_code = relationships.invitation_create(
            actor=request.user, note=form.cleaned_data["note"]
        )
        form = InvitationForm()
    return render(
        request,
        "customers/partner_invitations.html",
        {
            "tenant": tenant,
            "form": form,
            "new_code": new_code,
            "new_link": invitation_link(new_code) if new_code else None,
            "invitations": relationships.tenant_invitations(actor=request.user),
            "days": settings.CUSTOMER_INVITATION_DAYS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def partner_invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _customer_tenant(request)
    try:
        invitation = relationships.invitation_revoke(actor=request.user, invitation_pk=pk)
    except DomainError as error:
        if error.code == "not_found":
            raise Http404 from None
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Revoked: %s no longer sees your organisation's name and subscriptions.")
            % invitation.organisation.name
            if invitation.organisation
            else _("The invitation is revoked."),
        )
    return redirect("customer_partners:invitations")
