"""Forms of the reviewer's pages: they parse input; the claim services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cpor.catalog.models import Engagement, SolutionArea
from cpor.claims.models import ClaimStatus
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.forms import PageForm
from cpor.review.selectors import QUEUE_STATUSES, QueueFilters


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    engagement = forms.ChoiceField(label=_("Engagement"), required=False)
    solution_area = forms.ChoiceField(label=_("Solution area"), required=False)
    conflict = forms.BooleanField(label=_("Conflicts only"), required=False)
    failed_checks = forms.BooleanField(label=_("Failed checks only"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(ClaimStatus.choices)
        self.fields["status"].choices = [
            ("", _("Awaiting a decision")),
            *((status, labels[status]) for status in QUEUE_STATUSES),
        ]
        self.fields["engagement"].choices = [
            ("", _("Any engagement")),
            *Engagement.objects.values_list("code", "name"),
        ]
        self.fields["solution_area"].choices = [
            ("", _("Any solution area")),
            *SolutionArea.objects.values_list("code", "name"),
        ]

    def filters(self) -> QueueFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return QueueFilters(
            status=data.get("status") or "",
            engagement=data.get("engagement") or "",
            solution_area=data.get("solution_area") or "",
            conflict=bool(data.get("conflict")),
            failed_checks=bool(data.get("failed_checks")),
            mine=bool(data.get("mine")),
            text=data.get("q") or "",
        )


class ApproveForm(PageForm):
    id_prefix = "approve"

    line_ids = forms.TypedMultipleChoiceField(
        label=_("Lines to approve"),
        coerce=int,
        error_messages={"required": _("Choose at least one line to approve.")},
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Approve only some lines to partially approve the claim; the rest are not approved."
        ),
    )
    message = forms.CharField(
        label=_("Message to the partner"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, lines=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["line_ids"].choices = [(line.pk, str(line)) for line in lines]
        if not self.is_bound:
            self.initial.setdefault("line_ids", [line.pk for line in lines])

    def chosen_lines(self, all_lines) -> list[int] | None:
        """``None`` (the whole claim) when every pending line is chosen."""
        chosen = self.cleaned_data["line_ids"]
        return None if set(chosen) == {line.pk for line in all_lines} else chosen


class RejectForm(PageForm):
    id_prefix = "reject"

    reason_code = forms.ChoiceField(
        label=_("Reason"), choices=[("", _("Choose a reason")), *RejectionReason.choices]
    )
    message = forms.CharField(
        label=_("Comment to the partner"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RequestInfoForm(PageForm):
    id_prefix = "info"

    reason_code = forms.ChoiceField(
        label=_("What is missing"),
        choices=[("", _("Choose what is missing")), *InfoRequestReason.choices],
    )
    message = forms.CharField(
        label=_("Message to the partner"), widget=forms.Textarea(attrs={"rows": 3})
    )


class NoteForm(PageForm):
    id_prefix = "note"

    message = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Partners never see internal notes."),
    )
    shared = forms.BooleanField(
        label=_("Share with the other reviewers"),
        required=False,
        help_text=_("Unshared notes are seen only by you and the program admins."),
    )
