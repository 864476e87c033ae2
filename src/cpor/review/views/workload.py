"""Reviewer workload pages: assigning a claim to a named reviewer, who is on duty, bulk
actions on the queue, and saved queue filters. Each view parses its form and calls one
service; the services hold the rules."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from cpor.accounts.decorators import operator_required
from cpor.claims import services
from cpor.claims.models import ClaimStatus
from cpor.errors import DomainError
from cpor.errors import PermissionDenied as DomainPermissionDenied
from cpor.forms import add_domain_error
from cpor.review import selectors
from cpor.review.forms import AssignForm, BulkActionForm, QueueFilterForm, SavedFilterForm
from cpor.review.services import saved_filter_delete, saved_filter_save
from cpor.review.views.decisions import (
    _claim_for_decision,
    _claim_or_404,
    _done,
    _refused,
    _render_screen,
)


@require_POST
@operator_required
def claim_assign_to(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the claim to the reviewer chosen on the review screen."""
    claim = _claim_for_decision(request, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _render_screen(request, _claim_or_404(request, pk), status=400, assign_form=form)
    try:
        claim = services.claim_assign(
            actor=request.user, claim=claim, reviewer=form.cleaned_data["reviewer"]
        )
    except DomainError as error:
        return _refused(request, pk, error, "assign_form", form)
    reviewer = claim.assigned_reviewer
    return _done(
        request,
        pk,
        _("The claim is assigned to %s.") % (reviewer.get_full_name() or reviewer.email),
    )


# ---------------------------------------------------------------------------
# Duty


@require_GET
@operator_required
def workload(request: HttpRequest) -> HttpResponse:
    """Every reviewer with their duty and open load; who may change whose duty is the
    service's rule (program admins anyone, reviewers themselves)."""
    rows = selectors.reviewer_workload(actor=request.user)
    return render(
        request,
        "review/workload.html",
        {
            "rows": rows,
            "on_duty": sum(1 for row in rows if row.on_duty),
        },
    )


@require_POST
@operator_required
def reviewer_duty(request: HttpRequest, pk: int) -> HttpResponse:
    """``on_duty=1`` puts the reviewer on duty; anything else marks them away, which
    reassigns their open claims."""
    on_duty = request.POST.get("on_duty") == "1"
    try:
        duty = services.reviewer_set_duty(actor=request.user, reviewer=pk, on_duty=on_duty)
    except DomainPermissionDenied as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        if error.code == "unknown_reviewer":
            raise Http404(error.message) from None
        messages.error(request, error.message)
        return redirect(reverse("review:workload"))
    name = duty.reviewer.get_full_name() or duty.reviewer.email
    if on_duty:
        messages.success(request, _("%s is on duty: new submissions can go to them.") % name)
    else:
        messages.success(
            request,
            ngettext(
                "%(name)s is away; %(n)d open claim was reassigned.",
                "%(name)s is away; %(n)d open claims were reassigned.",
                duty.reassigned,
            )
            % {"name": name, "n": duty.reassigned},
        )
    return redirect(reverse("review:workload"))


# ---------------------------------------------------------------------------
# Bulk actions


@require_POST
@operator_required
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """Apply one action to the claims ticked in the queue and show each claim's outcome."""
    form = BulkActionForm(request.POST)
    outcomes, status = [], 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            outcomes = services.claims_bulk_decide(
                actor=request.user,
                action=data["action"],
                claim_ids=data["claims"],
                reason_code=data["reason_code"],
                message=data["message"],
            )
        except DomainPermissionDenied as error:
            raise PermissionDenied(error.message) from None
        except DomainError as error:
            add_domain_error(form, error)
    if form.errors:
        status = 400
    statuses = dict(ClaimStatus.choices)
    rows = [
        {
            "claim": outcome.claim_id,
            "ok": outcome.ok,
            "status": statuses.get(outcome.status, outcome.status),
            "code": outcome.code,
            "message": outcome.message,
        }
        for outcome in outcomes
    ]
    return render(
        request,
        "review/bulk_result.html",
        {
            "form": form,
            "rows": rows,
            "done": sum(1 for row in rows if row["ok"]),
            "refused": sum(1 for row in rows if not row["ok"]),
            "back": request.POST.get("back", ""),
        },
        status=status,
    )


# ---------------------------------------------------------------------------
# Saved filters


@require_POST
@operator_required
def saved_filter_create(request: HttpRequest) -> HttpResponse:
    """Save the filters the queue was showing (posted as the queue's own fields)."""
    form = SavedFilterForm(request.POST)
    filters = QueueFilterForm(request.POST)
    if form.is_valid():
        try:
            saved = saved_filter_save(
                actor=request.user, name=form.cleaned_data["name"], filters=filters.filters()
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Filter “%s” saved.") % saved.name)
            return redirect(f"{reverse('review:queue')}?{saved.query}")
    else:
        messages.error(request, " ".join(form.errors.get("name", [])))
    return redirect(reverse("review:queue"))


@require_POST
@operator_required
def saved_filter_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        saved_filter_delete(actor=request.user, pk=pk)
    except DomainError as error:
        raise Http404(error.message) from None
    messages.success(request, _("Saved filter deleted."))
    return redirect(reverse("review:queue"))
