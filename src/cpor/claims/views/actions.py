"""What a partner does to a claim from its page: submit, reply, withdraw, dispute,
disassociate. Irreversible ones ask for confirmation first."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cpor.claims import forms, services
from cpor.claims.models import (
    OPEN_STATUSES,
    Claim,
    ClaimStatus,
)
from cpor.claims.selectors import claim_tenant_name
from cpor.claims.views.common import _claim_or_404, _require_manager
from cpor.claims.views.detail import _back, _refused, _rerender
from cpor.confirmation import confirmation_page, is_confirmed
from cpor.errors import DomainError


@login_required
@require_POST
def claim_submit(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim_or_404(request, pk)
    _require_manager(request, claim)
    if claim.status != ClaimStatus.DRAFT:
        # A double-click's second request: the first one already submitted the claim.
        messages.info(request, _("This claim was already submitted."))
        return _back(claim)
    form = forms.SubmitForm(request.POST)
    if form.is_valid():
        try:
            services.claim_submit(
                actor=request.user,
                claim=claim,
                confirmed=True,
                comments=form.cleaned_data["comments"],
            )
        except DomainError as error:
            if error.code == "illegal_transition":
                messages.info(request, _("This claim was already submitted."))
                return _back(claim)
            return _refused(request, claim, form, error, submit_form=form)
        else:
            messages.success(
                request,
                _("The claim was submitted. We e-mail the customer to approve the association."),
            )
            return _back(claim)
    return _rerender(request, claim, submit_form=form)


def _message_action(request, pk, *, form_name, label, required, action, done, confirm=None):
    """``confirm(claim, message)``, when given, may answer the first POST with a
    confirmation page; the action runs only when it returns None."""
    claim = _claim_or_404(request, pk)
    _require_manager(request, claim)
    # The same ids as the page's own copy of this form (reply, withdraw, dispute).
    auto_id = f"id_{form_name.removesuffix('_form')}_%s"
    form = forms.MessageForm(request.POST, label=label, required=required, auto_id=auto_id)
    if form.is_valid():
        if confirm is not None and not is_confirmed(request):
            asking = confirm(claim, form.cleaned_data["message"])
            if asking is not None:
                return asking
        try:
            action(claim, form.cleaned_data["message"])
        except DomainError as error:
            if error.field in ("reason", "justification"):
                error.field = "message"
            return _refused(request, claim, form, error, **{form_name: form})
        else:
            messages.success(request, done)
            return _back(claim)
    return _rerender(request, claim, **{form_name: form})


@login_required
@require_POST
def claim_reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _message_action(
        request,
        pk,
        form_name="reply_form",
        label=_("Your reply to the reviewer"),
        required=True,
        action=lambda claim, text: services.claim_reply(
            actor=request.user, claim=claim, message=text
        ),
        done=_("Your reply was sent and the claim resubmitted."),
    )


def _confirm_withdrawal(request: HttpRequest, claim: Claim, message: str) -> HttpResponse | None:
    if claim.status not in OPEN_STATUSES:
        return None  # nothing to withdraw: the action says why
    return confirmation_page(
        request,
        title=_("Withdraw the claim “%s”?") % claim.name,
        consequences=[
            _("The claim stops here: the reviewer will not decide on it."),
            _("This cannot be undone. To claim these units again, start a new claim."),
            _("Your company's contact (%s) is told by e-mail.") % claim.partner_contact_email,
        ],
        details=[
            (_("Customer tenant"), claim_tenant_name(actor=request.user, claim=claim)),
            (_("Your reason"), message),
        ],
        action=reverse("claims:withdraw", args=[claim.pk]),
        fields=[("message", message)],
        button=_("Yes, withdraw the claim"),
        back=reverse("claims:detail", args=[claim.pk]),
    )


@login_required
@require_POST
def claim_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _message_action(
        request,
        pk,
        form_name="withdraw_form",
        label=_("Why do you withdraw? (optional)"),
        required=False,
        action=lambda claim, text: services.claim_withdraw(
            actor=request.user, claim=claim, message=text
        ),
        done=_("The claim was withdrawn."),
        confirm=lambda claim, text: _confirm_withdrawal(request, claim, text),
    )


@login_required
@require_POST
def claim_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    return _message_action(
        request,
        pk,
        form_name="dispute_form",
        label=_("Why is the rejection wrong?"),
        required=False,
        action=lambda claim, text: services.claim_dispute(
            actor=request.user, claim=claim, justification=text
        ),
        done=_("The rejection is disputed; the claim returns to review."),
    )


@login_required
@require_POST
def association_withdraw(request: HttpRequest, pk: int, association_pk: int) -> HttpResponse:
    claim = _claim_or_404(request, pk)
    _require_manager(request, claim)
    association = claim.associations.filter(pk=association_pk).first()
    if association is None:
        raise Http404(_("No such association."))
    reason = request.POST.get("reason", "")
    if association.is_held and reason.strip() and not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Disassociate from %s?") % association.unit_label,
            consequences=[
                _(
                    "From now on your organisation is no longer the partner of record for "
                    "this unit, and its usage is no longer shown to you."
                ),
                _("This cannot be undone. To be associated again, a new claim must be approved."),
            ],
            details=[(_("Your reason"), reason)],
            action=reverse("claims:association_withdraw", args=[claim.pk, association.pk]),
            fields=[("reason", reason)],
            button=_("Yes, disassociate"),
            back=reverse("claims:detail", args=[claim.pk]) + "#associations",
        )
    try:
        services.association_withdraw(actor=request.user, association=association, reason=reason)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You are no longer associated with %s.") % association.product)
    return _back(claim, "#associations")
