from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cpor.usage.selectors import DEFAULT_MONTHS, MONTH_CHOICES


class UsageImportForm(forms.Form):
    file = forms.FileField(
        label=_("Usage file (CSV or Parquet)"),
        help_text=_(
            "Workload usage: tenant_id, workload, month, active_users, paid_units. "
            "Subscription usage: subscription_id, month, licensed_units, revenue, currency. "
            "Months as YYYY-MM; importing a month again updates it."
        ),
    )


class PeriodForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        required=False,
        empty_value=DEFAULT_MONTHS,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Built per form so the labels follow the request's language.
        self.fields["months"].choices = [
            (n, gettext("last %(count)d months") % {"count": n}) for n in MONTH_CHOICES
        ]

    def months_or_default(self) -> int:
        if self.is_valid():
            return self.cleaned_data["months"] or DEFAULT_MONTHS
        return DEFAULT_MONTHS
