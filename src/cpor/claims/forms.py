"""Forms of the partner's claim pages: they parse input; services decide the rules."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from cpor.catalog.models import ClaimUnit, PartnerRole, SolutionArea
from cpor.claims.models import ClaimStatus, PoEType
from cpor.claims.selectors import (
    ClaimFilters,
    claimable_subscriptions,
    partner_locations,
    tenant_by_tenant_id,
)

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
        self.fields["partner_id"].choices = [
            (location.partner_id, str(location)) for location in partner_locations(actor=actor)
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

    def clean_tenant_id(self) -> str:
        raw = self.cleaned_data["tenant_id"].strip()
        try:
            guid = uuid.UUID(raw)
        except ValueError:
            raise forms.ValidationError(
                _("“%(value)s” is not a GUID (like 72f988bf-86f1-41af-91ab-2d7cd011db47)."),
                params={"value": raw},
            ) from None
        if tenant_by_tenant_id(guid) is None:
            raise forms.ValidationError(
                _("No customer tenant has the ID %(value)s. Check the customer's directory ID."),
                params={"value": guid},
            )
        return str(guid)


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

    def __init__(self, *args, role: PartnerRole, tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role = role
        if role.engagement.claim_unit == ClaimUnit.WORKLOAD:
            del self.fields["subscription_ids"]
            self.fields["products"].choices = [
                (product.code, product.name)
                for product in role.solution_area.products.filter(active=True).order_by("name")
            ]
            self.subscription_choices = []
        else:
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
