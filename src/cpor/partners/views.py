"""The program admin's partner pages (under /review/admin/partners/)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cpor.accounts.decorators import program_admin_required
from cpor.errors import DomainError
from cpor.forms import add_domain_error
from cpor.partners import selectors, services
from cpor.partners.forms import AdminForm, LocationForm, OnboardForm
from cpor.partners.models import PartnerOrganisation


@program_admin_required
def partner_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")[:200]
    organisations = selectors.partner_list(actor=request.user, text=text)
    return render(request, "partners/list.html", {"organisations": organisations, "q": text})


@program_admin_required
def partner_onboard(request: HttpRequest) -> HttpResponse:
    form = OnboardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.partner_onboard(
                actor=request.user,
                name=form.cleaned_data["name"],
                location=form.location(),
                admin=form.admin(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is onboarded; %(email)s was invited to set a password.")
                % {"name": organisation.name, "email": form.cleaned_data["email"]},
            )
            return redirect("review:partner", pk=organisation.pk)
    return render(
        request, "partners/onboard.html", {"form": form}, status=400 if form.errors else 200
    )


def _organisation(request, pk) -> PartnerOrganisation:
    try:
        return selectors.partner_get(actor=request.user, pk=pk)
    except PartnerOrganisation.DoesNotExist:
        raise Http404 from None


@program_admin_required
def partner_detail(request: HttpRequest, pk: int, **forms) -> HttpResponse:
    return render(
        request,
        "partners/detail.html",
        {
            "organisation": _organisation(request, pk),
            "location_form": forms.get("location_form") or LocationForm(),
            "admin_form": forms.get("admin_form") or AdminForm(),
        },
        status=400 if forms else 200,
    )


@program_admin_required
def location_add(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_location_add(
                actor=request.user, organisation=organisation, location=form.location()
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Location added."))
            return redirect("review:partner", pk=pk)
    if request.method != "POST":
        return redirect("review:partner", pk=pk)
    return partner_detail(request, pk, location_form=form)


@program_admin_required
def admin_invite(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    form = AdminForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_admin_invite(
                actor=request.user, organisation=organisation, admin=form.admin()
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Invitation sent to %s.") % form.cleaned_data["email"])
            return redirect("review:partner", pk=pk)
    if request.method != "POST":
        return redirect("review:partner", pk=pk)
    return partner_detail(request, pk, admin_form=form)
