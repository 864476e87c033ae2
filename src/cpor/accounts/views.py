"""The partner admin's Single sign-on page (``/organisation/single-sign-on/``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cpor.accounts.forms import SignOnForm
from cpor.accounts.selectors import partner_admin_membership, sign_on_of
from cpor.accounts.services import SignOnInput, sign_on_update
from cpor.errors import DomainError


@login_required
def single_sign_on(request: HttpRequest) -> HttpResponse:
    membership = partner_admin_membership(request.user)
    if membership is None:
        raise PermissionDenied
    sign_on = sign_on_of(membership.organisation)
    if request.method == "POST":
        form = SignOnForm(request.POST)
        if form.is_valid():
            tenant_ids, domains = form.cleaned_lists()
            try:
                sign_on_update(
                    actor=request.user,
                    data=SignOnInput(
                        tenant_ids=tenant_ids,
                        domains=domains,
                        invite_only=form.cleaned_data["invite_only"],
                        sso_required=form.cleaned_data["sso_required"],
                    ),
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Single sign-on settings saved."))
                return redirect("accounts_sso:single_sign_on")
    else:
        form = SignOnForm(
            initial={
                "tenant_ids": "\n".join(str(t.tenant_id) for t in sign_on.tenants.all())
                if sign_on
                else "",
                "domains": "\n".join(d.domain for d in sign_on.domains.all()) if sign_on else "",
                "invite_only": sign_on.invite_only if sign_on else True,
                "sso_required": sign_on.sso_required if sign_on else False,
            }
        )
    return render(
        request,
        "accounts/single_sign_on.html",
        {"form": form, "sign_on": sign_on, "organisation": membership.organisation},
    )
