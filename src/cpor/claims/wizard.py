"""The Add customer wizard's steps and state, for the views in ``claims.views``.

The state lives in the session under a wizard id (two tabs can run two wizards, and going
back keeps what was entered). Each step has a form; the last step turns the state into
one ``ClaimInput`` for ``claim_create`` (or ``claim_update`` when editing a draft).
"""

import uuid

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cpor.catalog.models import ClaimUnit, PartnerRole, SolutionArea
from cpor.claims import forms, services
from cpor.claims.models import ACTION_REQUIRED_EDITABLE, Claim
from cpor.claims.permissions import partner_membership
from cpor.claims.selectors import tenant_by_tenant_id
from cpor.customers.relationships import has_relationship

STEPS = ("area", "role", "details", "units", "contacts", "review")
STEP_TITLES = {
    "area": gettext_lazy("Solution area"),
    "role": gettext_lazy("Partner role"),
    "details": gettext_lazy("Details"),
    "units": gettext_lazy("Workloads"),
    "contacts": gettext_lazy("Contacts"),
    "review": gettext_lazy("Review"),
}
# Which step a service error about a field sends the user back to.
FIELD_STEPS = {
    "role": "role",
    "solution_area": "area",
    "name": "details",
    "partner_id": "details",
    "tenant_id": "details",
    "incentive_opt_out": "details",
    "seller_name": "details",
    "customer_name": "details",
    "isv_solution_name": "details",
    "products": "units",
    "subscription_ids": "units",
}
WIZARDS = "claim_wizards"
MAX_WIZARDS = 10


def wizards(request: HttpRequest) -> dict:
    return request.session.setdefault(WIZARDS, {})


def load(request: HttpRequest, wizard_id: str) -> dict:
    state = wizards(request).get(wizard_id)
    if state is None:
        raise Http404(_("This form has expired. Start again."))
    return state


def save(request: HttpRequest, wizard_id: str, state: dict) -> None:
    open_wizards = wizards(request)
    open_wizards[wizard_id] = state
    # Keep the session small: only the most recent wizards survive.
    for stale in list(open_wizards)[:-MAX_WIZARDS]:
        del open_wizards[stale]
    request.session.modified = True


def new(request: HttpRequest, data: dict, claim: Claim | None = None) -> str:
    wizard_id = uuid.uuid4().hex[:12]
    save(request, wizard_id, {"claim": claim.pk if claim else None, "data": data})
    return wizard_id


def step_url(wizard_id: str, step: str) -> str:
    return reverse("claims:wizard", args=[wizard_id, step])


def resolve(data: dict, actor=None) -> dict:
    """The catalog objects the state names (None where missing or no longer valid), and
    whether the actor's organisation has a relationship with the tenant (only then does
    it see the tenant's name and subscriptions)."""
    area = SolutionArea.objects.filter(code=data.get("solution_area") or "").first()
    role = None
    if area is not None and data.get("role"):
        role = (
            PartnerRole.objects.select_related("engagement", "solution_area")
            .filter(code=data["role"], solution_area=area, active=True)
            .first()
        )
    tenant = None
    if data.get("tenant_id"):
        try:
            tenant = tenant_by_tenant_id(uuid.UUID(data["tenant_id"]))
        except ValueError:
            tenant = None
    membership = partner_membership(actor)
    related = (
        tenant is not None
        and membership is not None
        and has_relationship(organisation_id=membership.organisation_id, tenant=tenant)
    )
    return {"area": area, "role": role, "tenant": tenant, "tenant_related": related}


def first_missing_step(data: dict, resolved: dict) -> str | None:
    if resolved["area"] is None:
        return "area"
    if resolved["role"] is None:
        return "role"
    if not data.get("name") or resolved["tenant"] is None or not data.get("partner_id"):
        return "details"
    if not (data.get("products") or data.get("subscription_ids")):
        return "units"
    if not data.get("partner_contact_email"):
        return "contacts"
    return None


def step_form(step: str, *, request, data: dict | None, initial: dict, resolved: dict):
    kwargs = {"data": data, "initial": initial}
    if step == "area":
        return forms.AreaStepForm(**kwargs)
    if step == "role":
        return forms.RoleStepForm(area=resolved["area"], **kwargs)
    if step == "details":
        return forms.DetailsStepForm(actor=request.user, role=resolved["role"], **kwargs)
    if step == "units":
        membership = partner_membership(request.user)
        return forms.UnitsStepForm(
            role=resolved["role"],
            tenant=resolved["tenant"],
            related=resolved.get("tenant_related", False),
            organisation_id=membership.organisation_id if membership else None,
            **kwargs,
        )
    if step == "contacts":
        return forms.ContactsStepForm(**kwargs)
    return None


def store(step: str, state: dict, cleaned: dict) -> None:
    data = state["data"]
    if step == "area":
        code = cleaned["solution_area"].code
        if data.get("solution_area") != code:
            for name in ("role", "products", "subscription_ids"):
                data.pop(name, None)
        data["solution_area"] = code
    elif step == "role":
        code = cleaned["role"].code
        if data.get("role") != code:
            data.pop("subscription_ids", None)
        data["role"] = code
    elif step == "details":
        if data.get("tenant_id") != cleaned["tenant_id"]:
            data.pop("subscription_ids", None)
        data.update(cleaned)
    else:
        data.update(cleaned)


def unfinished_values(step: str, post, *, request, resolved: dict) -> dict:
    """What the user entered on a step they leave with "Back", kept without validation so
    nothing typed is lost; choices are kept only where the step offers them."""
    if step == "units":
        offered = step_form(step, request=request, data=None, initial={}, resolved=resolved)
        values = {}
        for name, field in offered.fields.items():
            if not hasattr(field, "choices"):  # typed subscription IDs: keep what was typed
                values[name] = field.widget.value_from_datadict(post, None, name)
                continue
            valid = {str(value) for value, _label in field.choices}
            values[name] = [value for value in post.getlist(name) if value in valid]
        return values
    names = {
        "details": (
            "name",
            "partner_id",
            "tenant_id",
            "seller_name",
            "customer_name",
            "isv_solution_name",
        ),
        "contacts": (
            "customer_contact_name",
            "customer_contact_title",
            "customer_contact_email",
            "partner_contact_name",
            "partner_contact_email",
        ),
    }.get(step, ())
    values = {name: post.get(name, "").strip() for name in names if name in post}
    if step == "details":
        values["incentive_opt_out"] = bool(post.get("incentive_opt_out"))
    return values


def claim_input_from(data: dict, role: PartnerRole) -> services.ClaimInput:
    by_workload = role.engagement.claim_unit == ClaimUnit.WORKLOAD
    return services.ClaimInput(
        role=role.code,
        solution_area=data.get("solution_area"),
        partner_id=data.get("partner_id", ""),
        tenant_id=data.get("tenant_id", ""),
        name=data.get("name", ""),
        customer_contact_name=data.get("customer_contact_name", ""),
        customer_contact_title=data.get("customer_contact_title", ""),
        customer_contact_email=data.get("customer_contact_email", ""),
        partner_contact_name=data.get("partner_contact_name", ""),
        partner_contact_email=data.get("partner_contact_email", ""),
        products=list(data.get("products") or []) if by_workload else [],
        subscription_ids=[] if by_workload else list(data.get("subscription_ids") or []),
        incentive_opt_out=bool(data.get("incentive_opt_out")) and role.engagement.opt_out_allowed,
        seller_name=data.get("seller_name", ""),
        customer_name=data.get("customer_name", ""),
        isv_solution_name=data.get("isv_solution_name", ""),
    )


def review_context(data: dict, resolved: dict) -> dict:
    role = resolved["role"]
    units = []
    if role is not None and role.engagement.claim_unit == ClaimUnit.WORKLOAD:
        names = dict(
            role.solution_area.products.filter(code__in=data.get("products") or []).values_list(
                "code", "name"
            )
        )
        units = [names.get(code, code) for code in data.get("products") or []]
    elif resolved["tenant"] is not None:
        units = [
            str(s)
            for s in resolved["tenant"]
            .subscriptions.select_related("product")
            .filter(subscription_id__in=data.get("subscription_ids") or [])
        ]
    return {"units": units}


def data_from_claim(claim: Claim) -> dict:
    """A draft's values as wizard state, to edit it through the same steps."""
    lines = list(claim.lines.select_related("product", "subscription"))
    return {
        "solution_area": claim.role.solution_area.code,
        "role": claim.role.code,
        "name": claim.name,
        "partner_id": claim.location.partner_id,
        "tenant_id": str(claim.tenant.tenant_id),
        "incentive_opt_out": claim.incentive_opt_out,
        "seller_name": claim.seller_name,
        "customer_name": claim.customer_name,
        "isv_solution_name": claim.isv_solution_name,
        "products": [line.product.code for line in lines if line.subscription_id is None],
        "subscription_ids": [
            str(line.subscription.subscription_id) for line in lines if line.subscription_id
        ],
        **{name: getattr(claim, name) for name in ACTION_REQUIRED_EDITABLE if name != "location"},
    }
