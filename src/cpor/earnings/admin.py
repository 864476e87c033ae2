from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cpor.accounts.admin_site import ProgramAdminPermissions
from cpor.catalog.models import PurchaseChannel
from cpor.claims.services.history import ValidationFailed
from cpor.earnings import services
from cpor.earnings.models import RateCard


class RateCardAdminForm(forms.ModelForm):
    eligible_channels = forms.MultipleChoiceField(
        label=_("eligible purchase channels"),
        choices=PurchaseChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = RateCard
        fields = services.FIELDS

    def clean(self):
        data = super().clean()
        card = self.instance
        for name in services.FIELDS:
            if name in data:
                setattr(card, name, data[name])
        card.currency = (card.currency or "").upper()
        try:
            services.rate_card_validate(card)
        except ValidationFailed as error:
            raise ValidationError(
                {e.field if e.field in self.fields else None: e.message for e in error.errors}
            ) from None
        return data


@admin.register(RateCard)
class RateCardAdmin(ProgramAdminPermissions, admin.ModelAdmin):
    """The same rules as the program-admin pages: saved through ``rate_card_save``."""

    form = RateCardAdminForm
    list_display = ("engagement", "effective_from", "effective_until", "base", "rate", "currency")
    list_filter = ("engagement", "base", "currency")

    # Writing goes through the services, which accept program admins only: a superuser
    # without that role reads here but changes nothing.
    def has_add_permission(self, request) -> bool:
        return request.user.is_program_admin

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_program_admin

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_program_admin

    def save_model(self, request, obj, form, change):
        services.rate_card_save(actor=request.user, card=obj, values={})

    def delete_model(self, request, obj):
        services.rate_card_delete(actor=request.user, card=obj)
