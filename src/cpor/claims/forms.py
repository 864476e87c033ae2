"""Forms of the partner's claim pages: they parse input; services decide the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpor.catalog.models import ClaimUnit, PartnerRole, SolutionArea
from cpor.claims.models import ClaimStatus, PoEType
from cpor.claims.selectors import (
    ClaimFilters,
    claimable_subscriptions,
    partner_locations,
    subscription_ineligibility,
)
from cpor.claims.unit_standings import subscription_standings, workload_standings
from cpor.customers.lookup import tenant_lookup, tenant_subscriptions_typed
from cpor.errors import DomainError
from cpor.partners.models import LocationVerification

# ---------------------------------------------------------------------------
# Claim list


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ClaimStatus.choices]
    )
    solution_area = forms.ChoiceField(label=_("Solution area"), required=False)
    role = forms.ChoiceField(label=_("Partner role"), required=False)
    tenant = forms.CharField(label=_("Customer tenant"), required=False, max_length=200)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)

    def __init__(self, *args, areas=(), roles=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["solution_area"].choices = [("", _("Any solution area"))] + [
            (area.code, _(area.name)) for area in areas
        ]
        self.fields["role"].choices = [("", _("Any partner role"))] + [
            (role.code, _(role.name)) for role in roles
        ]

    def filters(self) -> ClaimFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return ClaimFilters(
            status=data.get("status") or None,
            solution_area=data.get("solution_area") or None,
            role=data.get("role") or None,
            tenant=(data.get("tenant") or "").strip() or None,
            text=(data.get("q") or "").strip() or None,
        )


# ---------------------------------------------------------------------------
# The Add customer wizard: one form per step, each validated on the server


class AreaStepForm(forms.Form):
    solution_area = forms.ModelChoiceField(
        label=_("Solution area"),
        queryset=SolutionArea.objects.all(),
        to_field_name="code",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("Choose a solution area.")},
    )


class RoleStepForm(forms.Form):
    role = forms.ModelChoiceField(
        label=_("Partner role"),
        queryset=PartnerRole.objects.none(),
        to_field_name="code",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose a partner role."),
            "invalid_choice": _("Choose a partner role of the chosen solution area."),
        },
    )

    def __init__(self, *args, area: SolutionArea, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = PartnerRole.objects.filter(
            solution_area=area, active=True
        ).select_related("engagement")


class DetailsStepForm(forms.Form):
    name = forms.CharField(
        label=_("Claim name"),
        max_length=200,
        help_text=_("A name you choose, to find the claim again."),
    )
    partner_id = forms.ChoiceField(
        label=_("PartnerID"),
        help_text=_("The location of your organisation to associate with the customer."),
        error_messages={"invalid_choice": _("Choose one of your organisation's PartnerIDs.")},
    )
    tenant_id = forms.CharField(
        label=_("Customer tenant ID"),
        max_length=64,
        help_text=_("The customer's directory (tenant) ID, a GUID such as %(example)s.")
        % {"example": "72f988bf-86f1-41af-91ab-2d7cd011db47"},
    )
    incentive_opt_out = forms.BooleanField(
        label=_("Opt out of incentive payments for this claim"), required=False
    )
    seller_name = forms.CharField(label=_("Dynamics solution seller name"), max_length=200)
    customer_name = forms.CharField(label=_("Customer name"), max_length=200)
    isv_solution_name = forms.CharField(label=_("ISV product or solution name"), max_length=200)

    REVENUE_FIELDS = ("seller_name", "customer_name", "isv_solution_name")

    def __init__(self, *args, actor, role: PartnerRole, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.locations = {
            location.partner_id: location for location in partner_locations(actor=actor)
        }
        self.fields["partner_id"].choices = [
            (partner_id, location_label(location))
            for partner_id, location in self.locations.items()
        ]
        engagement = role.engagement
        if not engagement.opt_out_allowed:
            del self.fields["incentive_opt_out"]
        if not engagement.requires_revenue_details:
            for name in self.REVENUE_FIELDS:
                del self.fields[name]
        for name in ("name", "seller_name", "customer_name", "isv_solution_name"):
            if name in self.fields:
                self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_partner_id(self) -> str:
        partner_id = self.cleaned_data["partner_id"]
        refusal = unverified_location_message(self.locations[partner_id])
        if refusal:
            raise forms.ValidationError(refusal)
        return partner_id

    def clean_tenant_id(self) -> str:
        # A counted, rate-limited and audited look-up (cpor.customers.lookup).
        try:
            found = tenant_lookup(actor=self.actor, tenant_id=self.cleaned_data["tenant_id"])
        except DomainError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return str(found.tenant.tenant_id)


def location_label(location) -> str:
    if location.verification == LocationVerification.PENDING:
        return _("%s (awaiting the program's verification)") % location
    if location.verification == LocationVerification.REFUSED:
        return _("%s (refused by the program)") % location
    return str(location)


def unverified_location_message(location) -> str:
    """Why a location cannot be claimed with yet, or an empty string."""
    if location.verification == LocationVerification.PENDING:
        return (
            _("PartnerID %s awaits the program's verification: it cannot be used in a claim yet.")
            % location.partner_id
        )
    if location.verification == LocationVerification.REFUSED:
        return _("The program refused PartnerID %s: it cannot be used in a claim.") % (
            location.partner_id
        )
    return ""


class TypedIdsWidget(forms.Textarea):
    """A text area for IDs, one per line (or separated by commas or spaces); a list posted
    under the same name (an API-like client, a test) is read as well."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        if isinstance(values, str):
            values = [values]
        return [part for value in values or () for part in value.replace(",", " ").split()]

    def format_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return super().format_value(value)


class UnitsStepForm(forms.Form):
    """Workloads (Modern Work and Security) or subscriptions (Business Applications)."""

    products = forms.MultipleChoiceField(
        label=_("Workloads"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one workload."),
            "invalid_choice": _("%(value)s is not a workload of the chosen solution area."),
        },
    )
    subscription_ids = forms.MultipleChoiceField(
        label=_("Subscription IDs"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one subscription ID."),
            "invalid_choice": _("Subscription %(value)s cannot be claimed under this role."),
        },
    )

    def __init__(
        self,
        *args,
        role: PartnerRole,
        tenant,
        related: bool = True,
        organisation_id: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.role = role
        self.tenant = tenant
        self.related = related
        self.standings = {}  # unit (product code or subscription ID) -> UnitStanding
        self.subscription_choices = []
        self.typed_subscriptions = []  # (subscription, why not eligible) as typed
        if role.engagement.claim_unit == ClaimUnit.WORKLOAD:
            del self.fields["subscription_ids"]
            self.fields["products"].choices = [
                (product.code, product.name)
                for product in role.solution_area.products.filter(active=True).order_by("name")
            ]
        elif related:
            del self.fields["products"]
            self.subscription_choices = (
                claimable_subscriptions(tenant=tenant, role=role) if tenant else []
            )
            # Only eligible subscriptions are valid choices; the others show, disabled.
            self.fields["subscription_ids"].choices = [
                (str(choice.subscription.subscription_id), str(choice.subscription))
                for choice in self.subscription_choices
                if choice.eligible
            ]
        else:
            # No relationship with the customer: never list the tenant's subscriptions;
            # the partner types the IDs the customer gave them and sees only what they are.
            del self.fields["products"]
            self.fields["subscription_ids"] = forms.Field(
                label=_("Subscription IDs"),
                widget=TypedIdsWidget(
                    attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}
                ),
                help_text=_(
                    "The subscription IDs the customer gave you, one per line. Only active "
                    "subscriptions of this solution area bought through Volume Licensing or "
                    "Web Direct can be claimed."
                ),
                error_messages={"required": _("Type at least one subscription ID.")},
            )
            if self.is_bound and tenant is not None:
                self._describe_typed(self.data)
            elif tenant is not None and self.initial.get("subscription_ids"):
                self._describe_typed({"subscription_ids": self.initial["subscription_ids"]})
        if tenant is not None and organisation_id is not None:
            self._find_standings(organisation_id)

    def _find_standings(self, organisation_id: int) -> None:
        """Licence and holder of the units the step shows: every row for a partner related
        to the tenant; for any other, only what it picked or typed (no enumeration)."""
        if self.by_workload:
            offered = [code for code, _label in self.fields["products"].choices]
            if self.related:
                codes = offered
            else:
                picked = (
                    self.data.getlist("products")
                    if self.is_bound and hasattr(self.data, "getlist")
                    else self.initial.get("products") or []
                )
                codes = [code for code in picked if code in offered]
            self.standings = workload_standings(
                organisation_id=organisation_id, tenant=self.tenant, codes=codes
            )
            return
        if self.related:
            ids = [choice.subscription.subscription_id for choice in self.subscription_choices]
        else:
            ids = [subscription.subscription_id for subscription, _why in self.typed_subscriptions]
        self.standings = subscription_standings(
            organisation_id=organisation_id, tenant=self.tenant, subscription_ids=ids
        )

    def workload_rows(self) -> list:
        """(check box, standing or None) per workload offered."""
        return [(box, self.standings.get(box.data["value"])) for box in self["products"]]

    def subscription_rows(self) -> list:
        """(choice, standing or None) per subscription of a related tenant."""
        return [
            (choice, self.standings.get(str(choice.subscription.subscription_id)))
            for choice in self.subscription_choices
        ]

    def typed_rows(self) -> list:
        """(subscription, why not eligible, standing or None) per typed subscription."""
        return [
            (subscription, why, self.standings.get(str(subscription.subscription_id)))
            for subscription, why in self.typed_subscriptions
        ]

    def _describe_typed(self, data) -> list[str]:
        ids = TypedIdsWidget().value_from_datadict(data, None, "subscription_ids")
        found, wrong = tenant_subscriptions_typed(tenant=self.tenant, subscription_ids=ids)
        today = timezone.localdate()
        self.typed_subscriptions = [
            (subscription, subscription_ineligibility(subscription, self.role, today))
            for subscription in found
        ]
        return wrong

    def clean_subscription_ids(self):
        ids = self.cleaned_data["subscription_ids"]
        if self.related or self.by_workload:
            return ids
        if not ids:
            raise forms.ValidationError(_("Type at least one subscription ID."))
        wrong = self._describe_typed({"subscription_ids": ids})
        problems = [
            _("%s is not a subscription of this customer's tenant.") % value for value in wrong
        ] + [
            _("Subscription %(id)s cannot be claimed under this role: %(why)s")
            % {"id": subscription.subscription_id, "why": why}
            for subscription, why in self.typed_subscriptions
            if why
        ]
        if problems:
            raise forms.ValidationError(problems)
        return [
            str(subscription.subscription_id) for subscription, _why in self.typed_subscriptions
        ]

    @property
    def by_workload(self) -> bool:
        return "products" in self.fields


class ContactsStepForm(forms.Form):
    customer_contact_name = forms.CharField(label=_("Customer contact name"), max_length=200)
    customer_contact_title = forms.CharField(label=_("Customer contact title"), max_length=200)
    customer_contact_email = forms.EmailField(label=_("Customer contact e-mail"))
    partner_contact_name = forms.CharField(label=_("Partner contact name"), max_length=200)
    partner_contact_email = forms.EmailField(label=_("Partner contact e-mail"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        autocomplete = {
            "customer_contact_name": "off",
            "customer_contact_title": "off",
            "customer_contact_email": "off",
            "partner_contact_name": "name",
            "partner_contact_email": "email",
        }
        for name, value in autocomplete.items():
            self.fields[name].widget.attrs["autocomplete"] = value


# ---------------------------------------------------------------------------
# Claim detail


class PoEUploadForm(forms.Form):
    file = forms.FileField(
        label=_("PoE file"),
        help_text=_("PDF, DOCX, PNG or JPEG. Drag the file here or browse."),
        allow_empty_file=True,  # the service refuses empty files with its own message
    )
    poe_type = forms.ChoiceField(label=_("PoE type"), choices=PoEType.choices)
    signed_on = forms.DateField(
        label=_("Date signed by the customer"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    signatory = forms.CharField(label=_("Customer signatory"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The activities performed and the products concerned."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = (
            ".pdf,.docx,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"
        )


class SubmitForm(forms.Form):
    accurate = forms.BooleanField(
        label=_("I confirm the information in this claim is accurate and complete."),
        error_messages={"required": _("Confirm that the information is accurate.")},
    )
    customer_agreed = forms.BooleanField(
        label=_(
            "I confirm the customer agreed to be associated with us and signed the proof of "
            "execution."
        ),
        error_messages={"required": _("Confirm that the customer agreed.")},
    )
    comments = forms.CharField(
        label=_("Comments (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CorrectionForm(forms.Form):
    """What a partner may change in Action required: the contacts and the PartnerID."""

    partner_id = forms.ChoiceField(
        label=_("PartnerID"),
        error_messages={"invalid_choice": _("Choose one of your organisation's PartnerIDs.")},
    )
    customer_contact_name = forms.CharField(label=_("Customer contact name"), max_length=200)
    customer_contact_title = forms.CharField(label=_("Customer contact title"), max_length=200)
    customer_contact_email = forms.EmailField(label=_("Customer contact e-mail"))
    partner_contact_name = forms.CharField(label=_("Partner contact name"), max_length=200)
    partner_contact_email = forms.EmailField(label=_("Partner contact e-mail"))

    def __init__(self, *args, actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner_id"].choices = [
            (location.partner_id, str(location)) for location in partner_locations(actor=actor)
        ]


class MessageForm(forms.Form):
    """One text: a reply to the reviewer, a withdrawal note, a dispute's justification."""

    message = forms.CharField(
        label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, label=None, required: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.fields["message"].label = label
        self.fields["message"].required = required
