from django import forms
from django.utils.translation import gettext_lazy as _

from cpor.catalog.models import Engagement, PurchaseChannel
from cpor.earnings.models import RateCard
from cpor.earnings.money import CURRENCIES


class RateCardForm(forms.ModelForm):
    """Parses a rate card version; the rules are ``services.rate_card_validate``'s."""

    eligible_channels = forms.MultipleChoiceField(
        label=_("eligible purchase channels"),
        choices=PurchaseChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None checked pays whatever the channel."),
    )

    class Meta:
        model = RateCard
        fields = (
            "engagement",
            "effective_from",
            "effective_until",
            "base",
            "rate",
            "currency",
            "min_paid_units",
            "min_growth",
            "cap",
            "eligible_channels",
            "note",
        )
        widgets = {
            "effective_from": forms.DateInput(attrs={"type": "date"}),
            "effective_until": forms.DateInput(attrs={"type": "date"}),
            "currency": forms.TextInput(
                attrs={"autocapitalize": "characters", "list": "currencies"}
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = Engagement.objects.all()
        self.fields["currency"].help_text = _("ISO 4217 code: %(codes)s.") % {
            "codes": ", ".join(sorted(CURRENCIES))
        }
        # The service names an unknown currency; a length error would hide that.
        self.fields["currency"].max_length = None
        self.fields["currency"].validators = []

    def _post_clean(self) -> None:
        # Field parsing only: the service validates the whole card (``rate_card_save``).
        pass


def add_errors(form: forms.Form, error) -> None:
    """A ``ValidationFailed`` from the service onto the form's fields."""
    for item in getattr(error, "errors", [error]):
        field = item.field if item.field in form.fields else None
        form.add_error(field, item.message)
