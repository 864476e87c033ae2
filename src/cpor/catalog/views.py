"""The program admin's catalog pages (under /review/admin/catalog/)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from cpor.accounts.decorators import program_admin_required
from cpor.catalog import services
from cpor.catalog.forms import (
    EngagementForm,
    OutOfScopeProgramForm,
    PartnerRoleForm,
    ProductForm,
    ProgramSettingsForm,
)
from cpor.catalog.models import (
    Engagement,
    OutOfScopeProgram,
    PartnerRole,
    Product,
    ProgramSettings,
)


@program_admin_required
def admin_home(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/admin_home.html")


@program_admin_required
def catalog_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/catalog.html",
        {
            "settings": ProgramSettings.load(),
            "engagements": Engagement.objects.select_related("solution_area", "role"),
            "roles": PartnerRole.objects.select_related("solution_area", "engagement"),
            "products": Product.objects.select_related("solution_area"),
            "programs": OutOfScopeProgram.objects.all(),
        },
    )


def _edit(request, form, save, *, title: str, done: str) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, done)
            return redirect("review:catalog")
    status = 400 if form.is_bound else 200
    return render(request, "catalog/edit.html", {"form": form, "title": title}, status=status)


@program_admin_required
def settings_edit(request: HttpRequest) -> HttpResponse:
    form = ProgramSettingsForm(request.POST or None, instance=ProgramSettings.load())
    return _edit(
        request,
        form,
        lambda data: services.program_settings_update(actor=request.user, values=data),
        title=_("Program settings"),
        done=_("Program settings saved."),
    )


@program_admin_required
def engagement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = get_object_or_404(Engagement, pk=pk)
    form = EngagementForm(request.POST or None, instance=engagement)
    return _edit(
        request,
        form,
        lambda data: services.engagement_update(
            actor=request.user, engagement=Engagement.objects.get(pk=pk), values=data
        ),
        title=_("Engagement: %s") % engagement.display_name,
        done=_("Engagement saved."),
    )


@program_admin_required
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(PartnerRole, pk=pk)
    form = PartnerRoleForm(request.POST or None, instance=role)
    return _edit(
        request,
        form,
        lambda data: services.partner_role_update(
            actor=request.user, role=PartnerRole.objects.get(pk=pk), values=data
        ),
        title=_("Partner role: %s") % role.display_name,
        done=_("Partner role saved."),
    )


@program_admin_required
def product_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk) if pk else None
    form = ProductForm(request.POST or None, instance=product)
    return _edit(
        request,
        form,
        lambda data: services.product_save(
            actor=request.user,
            product=Product.objects.get(pk=pk) if pk else None,
            values=data,
        ),
        title=_("Workload or product: %s") % product.display_name
        if product
        else _("New workload or product"),
        done=_("Workload or product saved."),
    )


@program_admin_required
def program_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    program = get_object_or_404(OutOfScopeProgram, pk=pk) if pk else None
    form = OutOfScopeProgramForm(request.POST or None, instance=program)
    return _edit(
        request,
        form,
        lambda data: services.out_of_scope_program_save(
            actor=request.user,
            program=OutOfScopeProgram.objects.get(pk=pk) if pk else None,
            values=data,
        ),
        title=_("Out-of-scope program: %s") % program.display_name
        if program
        else _("New out-of-scope program"),
        done=_("Out-of-scope program saved."),
    )
