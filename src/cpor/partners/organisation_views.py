"""The partner admin's Organisation area (/organisation/): users, locations and customer
relationships; and the program admin's PartnerID verification page. API tokens and
webhooks (``cpor.api.pages``) and the audit trail (``cpor.audit.views``) are routed under
the same area by ``cpor.organisation_urls``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cpor.accounts.decorators import program_admin_required
from cpor.customers import relationships
from cpor.errors import DomainError
from cpor.forms import add_domain_error
from cpor.partners import selectors, self_service
from cpor.partners.forms import (
    InvitationAcceptForm,
    LocationDecisionForm,
    LocationRequestForm,
    MemberInviteForm,
    MemberRoleForm,
)
from cpor.partners.models import PartnerRoleName


def _partner_admin(request: HttpRequest):
    try:
        return self_service.require_partner_admin(request.user)
    except DomainError:
        raise PermissionDenied from None


@login_required
def organisation_home(request: HttpRequest) -> HttpResponse:
    _partner_admin(request)
    return redirect("organisation:users")


@never_cache
@login_required
def users(request: HttpRequest) -> HttpResponse:
    membership = _partner_admin(request)
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            self_service.member_invite(
                actor=request.user, admin=form.admin(), role=form.cleaned_data["role"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Invitation sent to %s.") % form.cleaned_data["email"])
            return redirect("organisation:users")
    return render(
        request,
        "partners/organisation/users.html",
        {
            "organisation": membership.organisation,
            "members": selectors.organisation_members(actor=request.user),
            "form": form,
            "roles": PartnerRoleName.choices,
        },
        status=400 if form.errors else 200,
    )


def _member_action(request: HttpRequest, service, **kwargs) -> HttpResponse:
    _partner_admin(request)
    try:
        member = service(actor=request.user, **kwargs)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%s is updated.") % member.user.email)
    return redirect("organisation:users")


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        _partner_admin(request)
        messages.error(request, _("Choose a role from the list."))
        return redirect("organisation:users")
    return _member_action(
        request, self_service.member_set_role, member_pk=pk, role=form.cleaned_data["role"]
    )


@login_required
@require_POST
def member_active(request: HttpRequest, pk: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    return _member_action(request, self_service.member_set_active, member_pk=pk, active=active)


@never_cache
@login_required
def locations(request: HttpRequest) -> HttpResponse:
    membership = _partner_admin(request)
    form = LocationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = self_service.location_request(actor=request.user, location=form.location())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("PartnerID %s is added; the program verifies it before it can be claimed with.")
                % location.partner_id,
            )
            return redirect("organisation:locations")
    return render(
        request,
        "partners/organisation/locations.html",
        {
            "organisation": membership.organisation,
            "locations": selectors.organisation_locations(actor=request.user),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def customer_relationships(request: HttpRequest) -> HttpResponse:
    membership = _partner_admin(request)
    form = InvitationAcceptForm(
        request.POST or None, initial={"code": request.GET.get("code", "")[:500]}
    )
    if request.method == "POST" and form.is_valid():
        try:
            invitation = relationships.invitation_accept(
                actor=request.user, code=form.cleaned_data["code"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%s invited your organisation: you now see its name and subscriptions.")
                % invitation.tenant.name,
            )
            return redirect("organisation:relationships")
    return render(
        request,
        "partners/organisation/relationships.html",
        {
            "organisation": membership.organisation,
            "relationships": relationships.organisation_relationships(actor=request.user),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------------------
# The program admin's verification of PartnerIDs


@never_cache
@program_admin_required
def location_verifications(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "partners/verifications.html",
        {
            "pending": selectors.locations_to_verify(actor=request.user),
            "decided": selectors.locations_decided(actor=request.user),
            "form": LocationDecisionForm(),
        },
    )


@program_admin_required
@require_POST
def location_decide(request: HttpRequest, pk: int) -> HttpResponse:
    form = LocationDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to verify or refuse."))
        return redirect("partner_locations:verifications")
    try:
        location = self_service.location_decide(
            actor=request.user,
            location_pk=pk,
            verify=form.cleaned_data["decision"] == "verify",
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("PartnerID %(id)s: %(state)s.")
            % {"id": location.partner_id, "state": location.get_verification_display()},
        )
    return redirect("partner_locations:verifications")
