"""The partner's claim pages: the list, the Add customer wizard and the claim detail.

Views parse input with a form, call one service or selector, and render. Rules live in
the services; a refusal (``DomainError``) becomes a form error on the field it names.
Anything outside the user's organisation answers 404; read-only users get 403.
"""

from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cpor.catalog.models import PartnerRole, SolutionArea
from cpor.catalog.selectors import catalog_overview
from cpor.claims import checks, forms, poe_template, services, wizard
from cpor.claims.models import (
    ACTION_REQUIRED_EDITABLE,
    OPEN_STATUSES,
    Claim,
    ClaimStatus,
    ProofOfExecution,
)
from cpor.claims.permissions import can_manage_claims, partner_membership
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.selectors import (
    DEFAULT_CLAIM_SORT,
    claim_get,
    claim_history,
    claim_list_page,
    claim_list_page_rows,
    claims_needing_action_count,
    latest_info_request,
)
from cpor.claims.status_display import claim_status_badge, ended_reason, mark_ended_approvals
from cpor.confirmation import confirmation_page, is_confirmed
from cpor.csv_export import csv_response
from cpor.errors import DomainError
from cpor.forms import add_domain_error
from cpor.keyset import InvalidCursor

PAGE_SIZE = 50


def _claim_or_404(request: HttpRequest, pk: int) -> Claim:
    try:
        return claim_get(actor=request.user, pk=pk)
    except Claim.DoesNotExist:
        raise Http404(_("No such claim.")) from None


def _require_manager(request: HttpRequest, claim: Claim | None = None) -> None:
    """Read-only users and outsiders may look but not change (403)."""
    membership = partner_membership(request.user)
    organisation = claim.organisation if claim else membership and membership.organisation
    if organisation is None or not can_manage_claims(request.user, organisation):
        raise PermissionDenied(_("Your role can view claims but not change them."))


def _user_can_manage(request: HttpRequest) -> bool:
    membership = partner_membership(request.user)
    return membership is not None and can_manage_claims(request.user, membership.organisation)


# ---------------------------------------------------------------------------
# The claim list


def _list_filters(request: HttpRequest) -> forms.ClaimFilterForm:
    return forms.ClaimFilterForm(
        request.GET or None,
        areas=SolutionArea.objects.all(),
        roles=PartnerRole.objects.filter(active=True),
    )


def _label_rows(claims: list[Claim]) -> None:
    """Give each row what it shows, ready to print: labels translated once per distinct
    name on the page rather than once per row, dates in the local time zone, the
    detail link (the list's URL and the claim's number) without a URL reversal per row."""
    statuses = {value: str(label) for value, label in ClaimStatus.choices}
    names: dict[str, str] = {}
    detail = reverse("claims:list")
    for claim in claims:
        claim.status_label = statuses.get(claim.status, claim.status)
        claim.status_badge = claim_status_badge(claim.status)
        for attribute, name in (
            ("area_label", claim.role.solution_area.name),
            ("role_label", claim.role.name),
        ):
            if name not in names:
                names[name] = _(name)
            setattr(claim, attribute, names[name])
        claim.url = f"{detail}{claim.pk}/"
        claim.created_on = timezone.localdate(claim.created_at).isoformat()
        claim.submitted_on = (
            timezone.localdate(claim.submitted_at).isoformat() if claim.submitted_at else "—"
        )


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@login_required
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """Incentives → Customer claims: one page by keyset (``cursor``), a count that stops
    at ``CLAIM_COUNT_LIMIT`` unless the exact one is asked for (``count=exact``)."""
    filter_form = _list_filters(request)
    filters = filter_form.filters() if filter_form.is_bound else forms.ClaimFilterForm().filters()
    sort = request.GET.get("sort", DEFAULT_CLAIM_SORT)
    listing = {
        "actor": request.user,
        "filters": filters,
        "sort": sort,
        "size": PAGE_SIZE,
        "count": True,
        "exact": request.GET.get("count") == "exact",
    }
    status, cursor_error = 200, ""
    try:
        page = claim_list_page(cursor=request.GET.get("cursor") or None, **listing)
    except InvalidCursor as error:
        # Say so, and show the first page: the reader loses nothing but the position.
        status, cursor_error = 400, error.message
        page = claim_list_page(**listing)
    count, more = page.total
    _label_rows(page.rows)
    mark_ended_approvals(page.rows)
    needing_action = (
        claims_needing_action_count(actor=request.user)
        if partner_membership(request.user)
        else (0, False)
    )
    return render(
        request,
        "claims/list.html",
        {
            "filter_form": filter_form,
            "page": page,
            "count": count,
            "count_more": more,
            "count_pages": -(-count // PAGE_SIZE),
            "sort": sort,
            "query": _query_without(request, "cursor", "count"),
            "count_query": _query_without(request, "count"),
            "sort_query": _query_without(request, "cursor", "count", "sort"),
            "action_required": needing_action[0],
            "action_required_more": needing_action[1],
            "cursor_error": cursor_error,
            "can_manage": _user_can_manage(request),
            "areas": SolutionArea.objects.all(),
        },
        status=status,
    )


@login_required
@require_GET
def claim_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed so any size fits in constant memory."""
    filters = _list_filters(request).filters()
    rows = claim_list_page_rows(
        actor=request.user, filters=filters, sort=request.GET.get("sort", "-created")
    )
    header = [
        _("Claim name"),
        _("Status"),
        _("Solution area"),
        _("Partner role"),
        _("Customer tenant"),
        _("Tenant ID"),
        _("Workloads or subscriptions"),
        _("PartnerID"),
        _("Created"),
        _("Submitted"),
    ]

    def lines() -> Iterator[list]:
        for claim in rows.iterator(chunk_size=2000):
            units = "; ".join(str(line) for line in claim.lines.all())
            yield [
                claim.name,
                claim.get_status_display(),
                _(claim.role.solution_area.name),
                _(claim.role.name),
                claim.tenant.name,
                claim.tenant.tenant_id,
                units,
                claim.location.partner_id,
                claim.created_at.isoformat(timespec="minutes"),
                claim.submitted_at.isoformat(timespec="minutes") if claim.submitted_at else "",
            ]

    stamp = timezone.localdate().isoformat()
    return csv_response(header, lines(), filename=f"customer-claims-{stamp}.csv")


# ---------------------------------------------------------------------------
# The Add customer wizard. Its state lives in the session under a wizard id, so two
# tabs can run two wizards and going back keeps what was entered.


@login_required
def wizard_start(request: HttpRequest) -> HttpResponse:
    """Start "Add customer": a fresh wizard, the solution area already chosen if given."""
    _require_manager(request)
    data = {}
    area = request.GET.get("area")
    if area and SolutionArea.objects.filter(code=area).exists():
        data["solution_area"] = area
    wizard_id = wizard.new(request, data)
    return redirect(wizard.step_url(wizard_id, "role" if data else "area"))


@login_required
def wizard_step(request: HttpRequest, wizard_id: str, step: str) -> HttpResponse:
    _require_manager(request)
    if step not in wizard.STEPS:
        raise Http404
    state = wizard.load(request, wizard_id)
    if "done" in state:
        return redirect("claims:detail", pk=state["done"])
    data = state["data"]
    resolved = wizard.resolve(data)
    editing = _claim_or_404(request, state["claim"]) if state.get("claim") else None
    if editing is not None and editing.status != ClaimStatus.DRAFT:
        messages.error(request, _("A submitted claim cannot be edited."))
        return redirect("claims:detail", pk=editing.pk)

    # A step needs the ones before it: send the user to the first one not done.
    missing = wizard.first_missing_step(data, resolved)
    if missing is not None and wizard.STEPS.index(missing) < wizard.STEPS.index(step):
        return redirect(wizard.step_url(wizard_id, missing))

    index = wizard.STEPS.index(step)
    previous = wizard.STEPS[index - 1] if index else None
    errors: list[DomainError] = []
    form = None
    if step != "review":
        posted = request.POST if request.method == "POST" else None
        if posted is not None and "back" in posted:
            data.update(wizard.unfinished_values(step, posted, request=request, resolved=resolved))
            wizard.save(request, wizard_id, state)
            return redirect(wizard.step_url(wizard_id, previous or step))
        form = wizard.step_form(step, request=request, data=posted, initial=data, resolved=resolved)
        if posted is not None and form.is_valid():
            wizard.store(step, state, form.cleaned_data)
            wizard.save(request, wizard_id, state)
            return redirect(wizard.step_url(wizard_id, wizard.STEPS[index + 1]))
    elif request.method == "POST":
        if "back" in request.POST:
            return redirect(wizard.step_url(wizard_id, previous))
        claim_data = wizard.claim_input_from(data, resolved["role"])
        try:
            if editing is None:
                claim = services.claim_create(actor=request.user, data=claim_data)
                messages.success(request, _("The claim was created as a Draft. Upload the PoE."))
            else:
                claim = services.claim_update(actor=request.user, claim=editing, data=claim_data)
                messages.success(request, _("The claim was saved."))
        except DomainError as error:
            errors = list(getattr(error, "errors", None) or [error])
        else:
            # Remember the outcome: a repeated "Add customer" (a double click, the back
            # button) lands on the claim instead of creating another.
            wizard.save(request, wizard_id, {"done": claim.pk})
            return redirect("claims:detail", pk=claim.pk)

    context = {
        "wizard_id": wizard_id,
        "step": step,
        "steps": [(name, wizard.STEP_TITLES[name]) for name in wizard.STEPS],
        "step_number": index + 1,
        "step_count": len(wizard.STEPS),
        "previous": previous,
        "form": form,
        "data": data,
        "editing": editing,
        **resolved,
        "errors": [
            (error, wizard.FIELD_STEPS.get(error.field or "", "contacts")) for error in errors
        ],
    }
    if step == "role":
        context["overview"] = catalog_overview()
    if step == "units" and form is not None:
        context["by_workload"] = form.by_workload
        context["subscription_choices"] = form.subscription_choices
        context["selected"] = set(
            request.POST.getlist("subscription_ids")
            if request.method == "POST"
            else data.get("subscription_ids") or []
        )
    if step == "review":
        context.update(wizard.review_context(data, resolved))
        context["location"] = (
            partner_membership(request.user)
            .organisation.locations.filter(partner_id=data.get("partner_id"))
            .first()
        )
    return render(request, "claims/wizard.html", context, status=400 if errors else 200)


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
    response = FileResponse(
        proof.file.open("rb"),
        as_attachment=True,
        filename=proof.original_name,
        content_type=proof.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


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
        details=[(_("Customer tenant"), claim.tenant.name), (_("Your reason"), message)],
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
