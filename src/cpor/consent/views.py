"""The customer's pages: the decline page behind a signed link (no account), the
fresh-link form, and the signed-in customer admin's view of their tenant."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

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
    declinable = [unit for unit in units if unit.declinable]
    form = DeclineForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
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
    return _decline_as_admin(request, association.claim, [association.line_id])


@login_required
@require_POST
def decline_request(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant_or_404(request)
    claim = selectors.tenant_claim_get(tenant=tenant, pk=pk)
    if claim is None:
        raise Http404
    line_ids = list(claim.lines.filter(status="pending").values_list("pk", flat=True))
    return _decline_as_admin(request, claim, line_ids)


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
