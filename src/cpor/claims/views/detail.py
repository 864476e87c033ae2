"""The claim page: detail and history, editing a draft, PoE upload and downloads."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cpor.claims import checks, forms, poe_template, services, wizard
from cpor.claims.models import (
    ACTION_REQUIRED_EDITABLE,
    OPEN_STATUSES,
    Claim,
    ClaimStatus,
    ProofOfExecution,
)
from cpor.claims.permissions import can_manage_claims
from cpor.claims.poe_storage import poe_response
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.selectors import (
    claim_history,
    expected_dates,
    latest_info_request,
)
from cpor.claims.status_display import ended_reason
from cpor.claims.views.common import _claim_or_404, _require_manager
from cpor.errors import DomainError
from cpor.forms import add_domain_error

# ---------------------------------------------------------------------------
# Claim detail and its actions


def _detail_context(request: HttpRequest, claim: Claim, **forms_given) -> dict:
    manage = can_manage_claims(request.user, claim.organisation)
    editable_states = (ClaimStatus.DRAFT, ClaimStatus.ACTION_REQUIRED)
    associations = list(claim.associations.select_related("product", "subscription", "tenant"))
    claim.ended_reason = ended_reason(
        claim.status, [(a.status, a.end_reason, a.ended_at) for a in associations]
    )
    context = {
        "claim": claim,
        "lines": claim.lines.select_related("product", "subscription"),
        "proofs": claim.proofs.all(),
        "history": claim_history(actor=request.user, claim=claim),
        "associations": associations,
        "checks": checks.run_checks(claim) if claim.status in editable_states else [],
        "can_manage": manage,
        "is_draft": claim.status == ClaimStatus.DRAFT,
        "can_withdraw": manage and claim.status in OPEN_STATUSES,
        # Newer PoE protects held associations; once all ended there is none to protect.
        "can_add_poe": manage
        and claim.status in services.POE_ALLOWED_STATUSES
        and not claim.ended_reason,
        "can_dispute": manage and claim.status == ClaimStatus.REJECTED,
        "is_action_required": claim.status == ClaimStatus.ACTION_REQUIRED,
        "editable_fields": ACTION_REQUIRED_EDITABLE,
        "expected": expected_dates(claim),
    }
    if claim.status == ClaimStatus.ACTION_REQUIRED:
        request_event = latest_info_request(claim=claim)
        context["info_request"] = request_event
        context["info_reason"] = (
            InfoRequestReason(request_event.reason_code).label
            if request_event and request_event.reason_code in InfoRequestReason.values
            else ""
        )
    if claim.status == ClaimStatus.REJECTED:
        reject = claim.events.filter(action="reject").order_by("-at", "-id").first()
        context["rejection"] = reject
        context["rejection_reason"] = (
            RejectionReason(reject.reason_code).label
            if reject and reject.reason_code in RejectionReason.values
            else ""
        )
    if manage:
        context.setdefault("poe_form", forms.PoEUploadForm())
        context.setdefault("submit_form", forms.SubmitForm())
        context.setdefault(
            "reply_form",
            forms.MessageForm(label=_("Your reply to the reviewer"), auto_id="id_reply_%s"),
        )
        context.setdefault(
            "withdraw_form",
            forms.MessageForm(
                label=_("Why do you withdraw? (optional)"),
                required=False,
                auto_id="id_withdraw_%s",
            ),
        )
        context.setdefault(
            "dispute_form",
            forms.MessageForm(label=_("Why is the rejection wrong?"), auto_id="id_dispute_%s"),
        )
        if claim.status == ClaimStatus.ACTION_REQUIRED:
            context.setdefault(
                "correction_form",
                forms.CorrectionForm(
                    actor=request.user,
                    initial={
                        "partner_id": claim.location.partner_id,
                        **{
                            name: getattr(claim, name)
                            for name in ACTION_REQUIRED_EDITABLE
                            if name != "location"
                        },
                    },
                ),
            )
    context.update(forms_given)
    return context


@login_required
@require_GET
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim_or_404(request, pk)
    return render(request, "claims/detail.html", _detail_context(request, claim))


def _rerender(request: HttpRequest, claim: Claim, **forms_given) -> HttpResponse:
    context = _detail_context(request, claim, **forms_given)
    return render(request, "claims/detail.html", context, status=400)


def _back(claim: Claim, anchor: str = "") -> HttpResponseRedirect:
    return redirect(reverse("claims:detail", args=[claim.pk]) + anchor)


def _refused(request: HttpRequest, claim: Claim, form, error: DomainError, **forms_given):
    """Show a refusal on the form's field; one about the claim as a whole (its status, say),
    whose form may no longer be on the page, as a message above the claim."""
    items = getattr(error, "errors", None) or [error]
    if any(item.field in form.fields for item in items):
        add_domain_error(form, error)
        return _rerender(request, claim, **forms_given)
    messages.error(request, " ".join(item.message for item in items))
    return _back(claim)


@login_required
def claim_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A Draft re-enters the wizard, prefilled; Action required edits contacts and PartnerID."""
    claim = _claim_or_404(request, pk)
    _require_manager(request, claim)
    if claim.status == ClaimStatus.ACTION_REQUIRED:
        if request.method != "POST":
            return _back(claim, "#correction")
        form = forms.CorrectionForm(request.POST, actor=request.user)
        if form.is_valid():
            data = services.ClaimInput(
                role=claim.role.code,
                tenant_id=str(claim.tenant.tenant_id),
                name=claim.name,
                **form.cleaned_data,
            )
            try:
                services.claim_update(actor=request.user, claim=claim, data=data)
            except DomainError as error:
                return _refused(request, claim, form, error, correction_form=form)
            else:
                messages.success(request, _("Your corrections were saved."))
                return _back(claim)
        return _rerender(request, claim, correction_form=form)
    if claim.status != ClaimStatus.DRAFT:
        messages.error(request, _("A submitted claim cannot be edited."))
        return _back(claim)
    data = wizard.data_from_claim(claim)
    wizard_id = wizard.new(request, data, claim)
    return redirect(wizard.step_url(wizard_id, "review"))


@login_required
@require_POST
def claim_delete(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim_or_404(request, pk)
    _require_manager(request, claim)
    try:
        services.claim_delete(actor=request.user, claim=claim)
    except DomainError as error:
        messages.error(request, error.message)
        return _back(claim)
    messages.success(request, _("The draft was deleted."))
    return redirect("claims:list")


@login_required
@require_POST
def poe_upload(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim_or_404(request, pk)
    _require_manager(request, claim)
    form = forms.PoEUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.poe_add(actor=request.user, claim=claim, **form.cleaned_data)
        except DomainError as error:
            return _refused(request, claim, form, error, poe_form=form)
        else:
            messages.success(request, _("The PoE was added."))
            return _back(claim, "#poe")
    return _rerender(request, claim, poe_form=form)


@login_required
@require_GET
def poe_download(request: HttpRequest, pk: int, poe_pk: int) -> FileResponse:
    """Serve a PoE from private storage to those who may see its claim, as a download."""
    claim = _claim_or_404(request, pk)
    try:
        proof = claim.proofs.get(pk=poe_pk)
    except ProofOfExecution.DoesNotExist:
        raise Http404(_("No such PoE.")) from None
    return poe_response(proof)


@login_required
@require_GET
def poe_template_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The PoE template, pre-filled with the claim's details (PDF or DOCX)."""
    claim = _claim_or_404(request, pk)
    lines = list(claim.lines.select_related("product", "subscription"))
    if kind == "pdf":
        body, content_type = poe_template.pdf(claim, lines), "application/pdf"
    elif kind == "docx":
        body, content_type = poe_template.docx(claim, lines), poe_template.DOCX_CONTENT_TYPE
    else:
        raise Http404
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="poe-template-claim-{claim.pk}.{kind}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
