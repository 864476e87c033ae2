"""The reviewer's pages: the queue, the review screen, decisions, notes, PoE files.

Views parse input, call one service or selector and render; the claim services hold
every rule (who may decide, from which state) and are re-checked there."""

from urllib.parse import parse_qsl

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from cpor.accounts.decorators import operator_required
from cpor.claims import services
from cpor.claims.models import (
    OPEN_STATUSES,
    Claim,
    ClaimStatus,
    ProofOfExecution,
)
from cpor.claims.poe_storage import poe_response
from cpor.claims.selectors import claim_list
from cpor.claims.services.history import claim_in_scope
from cpor.errors import DomainError
from cpor.errors import PermissionDenied as DomainPermissionDenied
from cpor.formats import LocalDays
from cpor.forms import add_domain_error
from cpor.keyset import InvalidCursor
from cpor.review import selectors
from cpor.review.forms import (
    ApproveForm,
    AssignForm,
    BulkActionForm,
    NoteForm,
    QueueFilterForm,
    RejectForm,
    RequestInfoForm,
    SavedFilterForm,
)
from cpor.review.services import queue_query

# Shown in the browser; everything else is downloaded.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


SLA_BADGES = {"overdue": "text-bg-danger", "due_soon": "text-bg-warning"}


def _queue_labels() -> dict[str, str]:
    """The queue's fixed words, translated once per page rather than once per row."""
    return {
        "conflict": _("Conflict"),
        "poe": _("PoE"),
        "poe_title": _("No PoE signed within the engagement’s age limit"),  # noqa: RUF001
        "unit": _("Subscription"),
        "unit_title": _(
            "A subscription is not active or was bought through a channel the engagement "
            "does not accept"
        ),
        "location": _("PartnerID inactive"),
        "assign": _("Assign to me"),
        "tick": _("Tick claim"),
        "overdue": _("Overdue"),
        "due_soon": _("Due soon"),
        "on_track": _("On track"),
        "pickup": _("pick up by"),
        "decision": _("decide by"),
        # Column names again on each row, for the cards a phone shows (data-label).
        "partner": _("Partner"),
        "customer": _("Customer"),
        "engagement": _("Engagement"),
        "age": _("Age"),
        "target": _("Target"),
        "flags": _("Flags"),
        "reviewer": _("Reviewer"),
    }


def _label_rows(
    rows: list[tuple[selectors.QueuedClaim, selectors.SlaClock]], labels: dict[str, str]
) -> None:
    """Give each row what it shows, ready to print: labels looked up, not translated per
    row; dates formatted; links built from the queue's URL (claims/<id>/ below it)
    without a URL reversal per row."""
    statuses = {value: str(label) for value, label in ClaimStatus.choices}
    ages: dict[int, str] = {}
    base = f"{reverse('review:queue')}claims/"
    day = LocalDays()
    for claim, sla in rows:
        claim.url = f"{base}{claim.pk}/"
        claim.status_label = statuses.get(claim.status, claim.status)
        if sla.age not in ages:
            ages[sla.age] = ngettext("%(days)s business day", "%(days)s business days", sla.age) % {
                "days": sla.age
            }
        claim.age_label = ages[sla.age]
        claim.sla_badge = SLA_BADGES.get(sla.state, "text-bg-success")
        claim.sla_label = labels[sla.state]
        claim.due_label = labels[sla.kind]
        claim.due_on = day(sla.due)


@require_GET
@operator_required
def queue(request: HttpRequest) -> HttpResponse:
    """The queue, one keyset page at a time (``cursor``); ``count=exact`` asks for the
    exact total instead of "more than 1,000"."""
    form = QueueFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else selectors.QueueFilters()
    counts = selectors.queue_counts(actor=request.user)
    exact = request.GET.get("count") == "exact"
    status, cursor_error = 200, ""
    try:
        result = selectors.review_queue_page(
            actor=request.user,
            filters=filters,
            cursor=request.GET.get("cursor") or None,
            counts=counts,
            exact=exact,
        )
    except InvalidCursor as error:
        # Say so, and show the first page: the reader loses nothing but the position.
        status, cursor_error = 400, error.message
        result = selectors.review_queue_page(
            actor=request.user, filters=filters, counts=counts, exact=exact
        )
    labels = _queue_labels()
    _label_rows(result.rows, labels)
    query = _query_without(request, "cursor", "count")
    return render(
        request,
        "review/queue.html",
        {
            "form": form,
            "bulk_form": BulkActionForm(),
            "saved_form": SavedFilterForm(),
            "saved_filters": list(selectors.saved_filters(actor=request.user)),
            # What "Save these filters" keeps: the filters as the form understood them.
            "filter_pairs": parse_qsl(queue_query(filters)),
            "labels": labels,
            "page": result.page,
            "total": result.total,
            "rows": result.rows,
            "counts": counts,
            "statuses": ClaimStatus,
            "query": query,
            "count_query": _query_without(request, "count"),
            "cursor_error": cursor_error,
        },
        status=status,
    )


def _claim_or_404(request: HttpRequest, pk: int) -> selectors.ReviewScreen:
    try:
        return selectors.review_screen(actor=request.user, pk=pk)
    except Claim.DoesNotExist:
        raise Http404(_("No such claim.")) from None


def _claim_for_decision(request: HttpRequest, pk: int) -> Claim:
    """Just the claim: a decision needs no screen unless it is refused."""
    try:
        return claim_list(actor=request.user).get(pk=pk)
    except Claim.DoesNotExist:
        raise Http404(_("No such claim.")) from None


def _render_screen(request: HttpRequest, screen, *, status: int = 200, **forms) -> HttpResponse:
    lines = screen.pending_lines
    context = {
        "screen": screen,
        "claim": screen.claim,
        "approve_form": forms.get("approve_form") or ApproveForm(lines=lines),
        "reject_form": forms.get("reject_form") or RejectForm(),
        "info_form": forms.get("info_form") or RequestInfoForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(initial={"reviewer": screen.claim.assigned_reviewer_id}),
        "can_assign": screen.claim.status in OPEN_STATUSES,
        "can_decide": request.user.is_reviewer and screen.awaiting_decision,
        "inline_types": INLINE_TYPES,
        "refusal": forms.get("refusal", ""),
    }
    return render(request, "review/claim.html", context, status=status)


@require_GET
@operator_required
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_screen(request, _claim_or_404(request, pk))


def _refused(request, pk, error: DomainError, form_name: str, form) -> HttpResponse:
    if isinstance(error, DomainPermissionDenied):
        raise PermissionDenied(error.message)
    add_domain_error(form, error)
    status = 409 if error.code in DomainError.CONFLICT_CODES else 400
    return _render_screen(
        request,
        _claim_or_404(request, pk),
        status=status,
        refusal=error.message,
        **{form_name: form},
    )


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("review:claim", args=[pk]))


@require_POST
@operator_required
def claim_assign(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim_for_decision(request, pk)
    try:
        services.claim_start_review(actor=request.user, claim=claim)
    except DomainPermissionDenied as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(reverse("review:claim", args=[pk]))
    return _done(request, pk, _("The claim is assigned to you."))


@require_POST
@operator_required
def claim_approve(request: HttpRequest, pk: int) -> HttpResponse:
    # The form's choices are the pending lines of a claim the reviewer may see (none: the
    # screen's 404); the service then loads and locks the claim once, in the same scope.
    lines = selectors.lines_awaiting_decision(actor=request.user, pk=pk)
    form = ApproveForm(request.POST, lines=lines)
    if not form.is_valid():
        return _render_screen(request, _claim_or_404(request, pk), status=400, approve_form=form)
    try:
        claim = services.claim_approve(
            actor=request.user,
            claim=claim_in_scope(pk, actor=request.user),
            line_ids=form.chosen_lines(lines),
            message=form.cleaned_data["message"],
        )
    except Claim.DoesNotExist:  # gone since the lines were read
        raise Http404(_("No such claim.")) from None
    except DomainError as error:
        return _refused(request, pk, error, "approve_form", form)
    if claim.status == ClaimStatus.PARTIALLY_APPROVED:
        return _done(request, pk, _("The claim is partially approved."))
    return _done(request, pk, _("The claim is approved."))


@require_POST
@operator_required
def claim_reject(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim_for_decision(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _render_screen(request, _claim_or_404(request, pk), status=400, reject_form=form)
    try:
        services.claim_reject(
            actor=request.user,
            claim=claim,
            reason_code=form.cleaned_data["reason_code"],
            message=form.cleaned_data["message"],
        )
    except DomainError as error:
        return _refused(request, pk, error, "reject_form", form)
    return _done(request, pk, _("The claim is rejected."))


@require_POST
@operator_required
def claim_request_info(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim_for_decision(request, pk)
    form = RequestInfoForm(request.POST)
    if not form.is_valid():
        return _render_screen(request, _claim_or_404(request, pk), status=400, info_form=form)
    try:
        services.claim_request_info(
            actor=request.user,
            claim=claim,
            reason_code=form.cleaned_data["reason_code"],
            message=form.cleaned_data["message"],
        )
    except DomainError as error:
        return _refused(request, pk, error, "info_form", form)
    return _done(request, pk, _("The partner was asked for more information."))


@require_POST
@operator_required
def claim_note(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim_for_decision(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render_screen(request, _claim_or_404(request, pk), status=400, note_form=form)
    try:
        services.claim_add_note(
            actor=request.user,
            claim=claim,
            message=form.cleaned_data["message"],
            shared=form.cleaned_data["shared"],
        )
    except DomainError as error:
        return _refused(request, pk, error, "note_form", form)
    return _done(request, pk, _("Internal note added."))


@require_GET
@operator_required
@xframe_options_sameorigin
def proof_file(request: HttpRequest, pk: int) -> FileResponse:
    """Stream a PoE from private storage: inline only for PDF and images (the preview),
    as a download otherwise or when asked; never sniffed by the browser."""
    try:
        proof = selectors.proof_for_operator(actor=request.user, pk=pk)
    except ProofOfExecution.DoesNotExist:
        raise Http404(_("No such file.")) from None
    inline = proof.content_type in INLINE_TYPES and "download" not in request.GET
    return poe_response(proof, inline=inline)
