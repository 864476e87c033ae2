"""The customer's pages: the decline page behind a signed link (no account), the
fresh-link form, and the signed-in customer admin's view of their tenant.

A decline cannot be undone, so each one is asked twice: the first POST shows what will
happen (``cpor.confirmation``), the confirmed one declines."""

from collections.abc import Sequence

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cpor.claims.models import Claim
from cpor.claims.status_display import ended_reason
from cpor.confirmation import confirmation_page, is_confirmed
from cpor.consent import selectors, services
from cpor.consent.forms import DeclineForm, FreshLinkForm
from cpor.consent.ratelimit import allow
from cpor.consent.tokens import LinkExpired, LinkInvalid, decline_link_open
from cpor.errors import DomainError

FRESH_LINK_PER_EMAIL = 3
FRESH_LINK_PER_IP = 20
FRESH_LINK_WINDOW = 3600


def _no_referrer(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: never hand it to another site (same-origin keeps the
    # Origin header, which the CSRF check needs; "no-referrer" would send "null").
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _confirm_decline(
    request: HttpRequest,
    *,
    claim: Claim,
    units: Sequence[tuple[str, bool]],
    reason: str,
    fields: list[tuple[str, object]],
    back: str,
) -> HttpResponse:
    """Ask before declining ``units``: (label, whether the partner holds it already)."""
    partner = claim.organisation.name
    consequences = [
        _("From now on, %(partner)s is not the partner of record for %(unit)s.")
        % {"partner": partner, "unit": label}
        if held
        else _("The request of %(partner)s for %(unit)s will not be approved.")
        % {"partner": partner, "unit": label}
        for label, held in units
    ]
    consequences += [
        _("%(partner)s is told by e-mail, with your reason.") % {"partner": partner},
        _("This cannot be undone: the partner would have to file a new claim."),
    ]
    return confirmation_page(
        request,
        title=_("Decline %(partner)s?") % {"partner": partner},
        consequences=consequences,
        details=[
            (_("Partner"), f"{partner} (PartnerID {claim.location.partner_id})"),
            (_("Your reason"), reason),
        ],
        action=request.path,
        fields=[*fields, ("reason", reason)],
        button=_("Yes, decline"),
        back=back,
    )


@never_cache
def decline(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = decline_link_open(token)
    except (LinkInvalid, LinkExpired) as problem:
        expired = isinstance(problem, LinkExpired)
        return _no_referrer(
            render(
                request,
                "consent/link_invalid.html",
                {"expired": expired, "form": FreshLinkForm()},
                status=410 if expired else 404,
            )
        )
    claim = link.claim
    units = selectors.request_units(claim)
    claim.ended_reason = ended_reason(
        claim.status,
        [
            (unit.association.status, unit.association.end_reason, unit.association.ended_at)
            for unit in units
            if unit.association is not None
        ],
    )
    declinable = [unit for unit in units if unit.declinable]
    form = DeclineForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        chosen = [unit for unit in units if unit.line.pk in form.cleaned_data["units"]]
        # Units that can no longer be declined go straight to the service, which says why.
        if not is_confirmed(request) and all(unit.declinable for unit in chosen):
            return _no_referrer(
                _confirm_decline(
                    request,
                    claim=claim,
                    units=[(str(unit.line), unit.association is not None) for unit in chosen],
                    reason=form.cleaned_data["reason"],
                    fields=[("units", unit.line.pk) for unit in chosen],
                    back=request.path,
                )
            )
        try:
            services.decline_by_link(
                link=link, line_ids=form.cleaned_data["units"], reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            form.add_error("units" if error.field == "units" else None, error.message)
        else:
            messages.success(request, _("Done: you declined what you chose."))
            return redirect("consent:decline", token=token)
    return _no_referrer(
        render(
            request,
            "consent/decline.html",
            {
                "claim": claim,
                "units": units,
                "declinable": declinable,
                "form": form,
                "link": link,
            },
            status=400 if request.method == "POST" and form.errors else 200,
        )
    )


@never_cache
def fresh_link(request: HttpRequest) -> HttpResponse:
    """Ask for new links. The answer is the same whether the address is known or not."""
    form = FreshLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        ip = request.META.get("REMOTE_ADDR", "")
        if not (
            allow("fresh-link-ip", ip, limit=FRESH_LINK_PER_IP, window_seconds=FRESH_LINK_WINDOW)
            and allow(
                "fresh-link-email",
                email,
                limit=FRESH_LINK_PER_EMAIL,
                window_seconds=FRESH_LINK_WINDOW,
            )
        ):
            return render(
                request, "consent/fresh_link.html", {"form": form, "limited": True}, status=429
            )
        services.decline_links_resend(email=email)
        return render(request, "consent/fresh_link_sent.html", {"email": email})
    return render(
        request, "consent/fresh_link.html", {"form": form}, status=400 if form.errors else 200
    )


def _tenant_or_404(request: HttpRequest):
    tenant = selectors.customer_tenant_of(request.user)
    if tenant is None:
        raise Http404(_("This page is for customer administrators."))
    return tenant


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    tenant = _tenant_or_404(request)
    return render(
        request,
        "consent/overview.html",
        {
            "tenant": tenant,
            "associations": selectors.tenant_associations(tenant=tenant),
            "requests": selectors.tenant_open_requests(tenant=tenant),
        },
    )


@login_required
@require_POST
def decline_association(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant_or_404(request)
    association = selectors.tenant_association_get(tenant=tenant, pk=pk)
    if association is None:
        raise Http404
    if association.is_held and not is_confirmed(request):
        return _confirm_decline(
            request,
            claim=association.claim,
            units=[(association.unit_label, True)],
            reason=request.POST.get("reason", ""),
            fields=[],
            back=reverse("consent:overview"),
        )
    return _decline_as_admin(request, association.claim, [association.line_id])


@login_required
@require_POST
def decline_request(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant_or_404(request)
    claim = selectors.tenant_claim_get(tenant=tenant, pk=pk)
    if claim is None:
        raise Http404
    lines = list(claim.lines.filter(status="pending").select_related("product", "subscription"))
    if lines and not is_confirmed(request):
        return _confirm_decline(
            request,
            claim=claim,
            units=[(str(line), False) for line in lines],
            reason=request.POST.get("reason", ""),
            fields=[],
            back=reverse("consent:overview"),
        )
    return _decline_as_admin(request, claim, [line.pk for line in lines])


def _decline_as_admin(request: HttpRequest, claim, line_ids: list[int]) -> HttpResponse:
    reason = request.POST.get("reason", "")
    try:
        services.decline_by_customer_admin(
            actor=request.user, claim=claim, line_ids=line_ids, reason=reason
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Declined."))
    return redirect("consent:overview")
