import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpor.analytics.selectors import Filters
from cpor.catalog.models import Engagement, SolutionArea

DEFAULT_DAYS = 90
LONGEST_PERIOD_DAYS = 731


class AnalyticsFilterForm(forms.Form):
    """Period, engagement and solution area; both dates optional (the last 90 days)."""

    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    engagement = forms.ModelChoiceField(
        label=_("Engagement"),
        queryset=Engagement.objects.select_related("solution_area"),
        required=False,
        empty_label=_("All engagements"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    solution_area = forms.ModelChoiceField(
        label=_("Solution area"),
        queryset=SolutionArea.objects.all(),
        required=False,
        empty_label=_("All solution areas"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            self.add_error("end", _("The end of the period must not be before its start."))
        elif (end - start).days >= LONGEST_PERIOD_DAYS:
            self.add_error(
                "start",
                _("A period is at most %(days)d days long.") % {"days": LONGEST_PERIOD_DAYS},
            )
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> Filters:
        """The filters to report on; call after ``is_valid()`` returned True."""
        data = self.cleaned_data
        return Filters(
            start=data["start"],
            end=data["end"],
            engagement=data.get("engagement"),
            solution_area=data.get("solution_area"),
        )
