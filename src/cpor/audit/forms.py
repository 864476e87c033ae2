"""The audit trail's filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cpor.audit.exports import CSV, JSON_LINES, Period
from cpor.audit.models import AuditAction
from cpor.audit.selectors import AuditFilters
from cpor.partners.models import PartnerOrganisation


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("What"), required=False, choices=[("", _("Any change")), *AuditAction.choices]
    )
    actor = forms.CharField(label=_("Who (e-mail)"), required=False, max_length=254)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        required=False,
        queryset=PartnerOrganisation.objects.order_by("name"),
        empty_label=_("Any organisation"),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, operator: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not operator:  # a partner admin reads their own organisation only
            del self.fields["organisation"]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("“To” must not be before “From”."))
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        organisation = data.get("organisation")
        return AuditFilters(
            action=data.get("action") or None,
            actor=(data.get("actor") or "").strip() or None,
            organisation=organisation.pk if organisation else None,
            since=data.get("since"),
            until=data.get("until"),
            before_id=data.get("before"),
        )


class HistoryExportForm(forms.Form):
    """A period and a file format, for either history export (``cpor.audit.exports``)."""

    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    output = forms.ChoiceField(
        label=_("Format"),
        choices=[(CSV, _("CSV (spreadsheets)")), (JSON_LINES, _("JSON lines (one event a line)"))],
        initial=CSV,
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("“Until” must not be before “From”."))
        return data

    def period(self) -> Period:
        return Period(since=self.cleaned_data.get("since"), until=self.cleaned_data.get("until"))
