"""The signed-in pages that manage API tokens and webhook endpoints, in the Organisation
area (``cpor.organisation_urls``: /organisation/api-tokens/, /organisation/webhooks/)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cpor.api.models import ApiToken, WebhookEndpoint
from cpor.api.services import (
    api_token_create,
    api_token_revoke,
    webhook_endpoint_create,
    webhook_endpoint_delete,
)
from cpor.claims.permissions import can_manage_claims, partner_membership
from cpor.errors import DomainError
from cpor.forms import add_domain_error


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Token name"),
        max_length=100,
        help_text=gettext_lazy("Say where it is used, e.g. “CRM integration”."),
    )


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Endpoint URL"),
        max_length=500,
        help_text=gettext_lazy("An https:// address that accepts POST requests."),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _row, new_token = api_token_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            form = TokenForm()
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "new_token": new_token,
            "tokens": ApiToken.objects.filter(user=request.user),
        },
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token “%s” is revoked.") % token.name)
    return redirect("organisation:tokens")


def _organisation_endpoints(request):
    membership = partner_membership(request.user)
    if membership is None:
        raise Http404
    return membership, WebhookEndpoint.objects.filter(organisation_id=membership.organisation_id)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def webhooks(request):
    membership, endpoints = _organisation_endpoints(request)
    may_manage = can_manage_claims(request.user, membership.organisation)
    form = WebhookForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _endpoint, new_secret = webhook_endpoint_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            form = WebhookForm()
    return render(
        request,
        "api/webhooks.html",
        {
            "form": form,
            "endpoints": endpoints,
            "new_secret": new_secret,
            "may_manage": may_manage,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request, pk: int):
    _membership, endpoints = _organisation_endpoints(request)
    endpoint = get_object_or_404(endpoints, pk=pk)
    if request.method == "POST":
        try:
            webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("organisation:webhook", pk=pk)
        messages.success(request, _("The endpoint is removed."))
        return redirect("organisation:webhooks")
    return render(
        request,
        "api/webhook_detail.html",
        {"endpoint": endpoint, "deliveries": endpoint.deliveries.all()[:100]},
    )
