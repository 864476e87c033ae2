"""Forms of the program admin's partner onboarding pages."""

from urllib.parse import unquote

from django import forms
from django.utils.translation import gettext_lazy as _

from cpor.forms import PageForm
from cpor.partners.models import PartnerRoleName
from cpor.partners.services import AdminInput, LocationInput


class LocationForm(forms.Form):
    partner_id = forms.CharField(
        label=_("PartnerID"), max_length=12, help_text=_("4 to 12 digits, unique.")
    )
    location_name = forms.CharField(label=_("Location name"), max_length=200)
    country = forms.CharField(
        label=_("Country"), max_length=2, required=False, help_text=_("Two letters, e.g. PT.")
    )

    def location(self) -> LocationInput:
        data = self.cleaned_data
        return LocationInput(data["partner_id"], data["location_name"], data["country"])


class AdminForm(forms.Form):
    email = forms.EmailField(label=_("Admin e-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=[("en", "English"), ("pt-pt", "Português (Portugal)")],
    )

    def admin(self) -> AdminInput:
        data = self.cleaned_data
        return AdminInput(data["email"], data["first_name"], data["last_name"], data["language"])


class OnboardForm(LocationForm, AdminForm):
    name = forms.CharField(label=_("Organisation name"), max_length=200)

    field_order = ("name", "partner_id", "location_name", "country")


# ---------------------------------------------------------------------------
# The partner admin's Organisation area


class MemberInviteForm(PageForm):
    id_prefix = "invite"

    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=PartnerRoleName.choices,
        initial=PartnerRoleName.INCENTIVES_USER,
        help_text=_(
            "Partner admins manage users and locations; incentives administrators file "
            "claims; incentives users only read."
        ),
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=[("en", "English"), ("pt-pt", "Português (Portugal)")],
    )

    def admin(self) -> AdminInput:
        data = self.cleaned_data
        return AdminInput(data["email"], data["first_name"], data["last_name"], data["language"])


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=PartnerRoleName.choices)


class LocationRequestForm(LocationForm, PageForm):
    id_prefix = "location"


class InvitationAcceptForm(PageForm):
    id_prefix = "accept"

    code = forms.CharField(
        label=_("Invitation code"),
        max_length=500,
        help_text=_("The code or link the customer's admin sent you."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        # A pasted link works as well as the bare code: keep what follows the last "/".
        code = unquote(self.cleaned_data["code"].strip().rstrip("/"))
        return code.rsplit("/", 1)[-1].split("code=", 1)[-1]


class LocationDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("verify", _("Verify")), ("refuse", _("Refuse"))]
    )
    note = forms.CharField(label=_("Reason (required to refuse)"), max_length=500, required=False)
