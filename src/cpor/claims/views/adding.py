"""The Add customer wizard's pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cpor.catalog.models import SolutionArea
from cpor.catalog.selectors import catalog_overview, coop_programs
from cpor.claims import services, wizard
from cpor.claims.models import (
    ClaimStatus,
)
from cpor.claims.permissions import partner_membership
from cpor.claims.views.common import _claim_or_404, _require_manager
from cpor.errors import DomainError

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
    resolved = wizard.resolve(data, actor=request.user)
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
        if posted is not None and ("back" in posted or (step == "units" and "check" in posted)):
            # "Back" keeps what was entered; "Check" on the units step keeps it too and
            # shows the licence and holder of what was picked (without JavaScript).
            data.update(wizard.unfinished_values(step, posted, request=request, resolved=resolved))
            wizard.save(request, wizard_id, state)
            if "back" in posted:
                return redirect(wizard.step_url(wizard_id, previous or step))
            return redirect(wizard.step_url(wizard_id, step) + "#unit-standings")
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
        context["coop_programs"] = coop_programs()
    if step == "units" and form is not None:
        context["by_workload"] = form.by_workload
        context["subscription_choices"] = form.subscription_choices
        context["subscription_rows"] = form.subscription_rows()
        context["typed_subscriptions"] = form.typed_subscriptions
        context["typed_rows"] = form.typed_rows()
        if form.by_workload:
            context["workload_rows"] = form.workload_rows()
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
