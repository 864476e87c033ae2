"""Forms of the program admin's partner onboarding pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

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
