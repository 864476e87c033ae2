"""Forms of the program admin's catalog pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cpor.catalog import services
from cpor.catalog.models import (
    Engagement,
    OutOfScopeProgram,
    PartnerRole,
    Product,
    ProgramSettings,
    PurchaseChannel,
)


class EngagementForm(forms.ModelForm):
    allowed_channels = forms.MultipleChoiceField(
        label=_("Allowed purchase channels"),
        choices=PurchaseChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A claimed subscription must come from one of these; none ticked allows any."),
    )

    class Meta:
        model = Engagement
        fields = services.ENGAGEMENT_FIELDS


class ProgramSettingsForm(forms.ModelForm):
    class Meta:
        model = ProgramSettings
        fields = services.SETTINGS_FIELDS


class PartnerRoleForm(forms.ModelForm):
    class Meta:
        model = PartnerRole
        fields = services.ROLE_FIELDS
        widgets = {
            "help_text": forms.Textarea(attrs={"rows": 3}),
            "help_text_pt": forms.Textarea(attrs={"rows": 3}),
        }


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = services.PRODUCT_FIELDS


class OutOfScopeProgramForm(forms.ModelForm):
    class Meta:
        model = OutOfScopeProgram
        fields = services.PROGRAM_FIELDS
        widgets = {
            "message": forms.Textarea(attrs={"rows": 3}),
            "message_pt": forms.Textarea(attrs={"rows": 3}),
        }
