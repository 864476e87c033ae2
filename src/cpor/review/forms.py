"""Forms of the reviewer's pages: they parse input; the claim services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cpor.accounts.models import OperatorRole, User
from cpor.catalog.models import Engagement, SolutionArea
from cpor.claims.models import ClaimStatus
from cpor.claims.reasons import InfoRequestReason, RejectionReason
from cpor.claims.services import BULK_ACTIONS, MAX_BULK_CLAIMS
from cpor.forms import PageForm
from cpor.review.selectors import QUEUE_STATUSES, QueueFilters


def reviewer_choices() -> list[tuple[int, str]]:
    """(id, name) of every active reviewer, in one query."""
    return [
        (user.pk, user.get_full_name() or user.email)
        for user in User.objects.filter(
            operator_role=OperatorRole.REVIEWER, is_active=True
        ).order_by("first_name", "last_name", "email")
    ]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    engagement = forms.ChoiceField(label=_("Engagement"), required=False)
    solution_area = forms.ChoiceField(label=_("Solution area"), required=False)
    conflict = forms.BooleanField(label=_("Conflicts only"), required=False)
    failed_checks = forms.BooleanField(label=_("Failed checks only"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    reviewer = forms.ChoiceField(label=_("Reviewer"), required=False)
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
            *((e.code, e.display_name) for e in Engagement.objects.only("code", "name", "name_pt")),
        ]
        self.fields["solution_area"].choices = [
            ("", _("Any solution area")),
            *(
                (a.code, a.display_name)
                for a in SolutionArea.objects.only("code", "name", "name_pt")
            ),
        ]
        self.fields["reviewer"].choices = [
            ("", _("Any reviewer")),
            ("none", _("Nobody assigned")),
            *((str(pk), name) for pk, name in reviewer_choices()),
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
            reviewer=data.get("reviewer") or "",
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


# ---------------------------------------------------------------------------
# Workload


class SavedFilterForm(PageForm):
    id_prefix = "saved"

    name = forms.CharField(label=_("Save these filters as"), max_length=80)


class AssignForm(PageForm):
    id_prefix = "assign"

    reviewer = forms.TypedChoiceField(label=_("Assign to"), coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [("", _("Choose a reviewer")), *reviewer_choices()]


class BulkActionForm(PageForm):
    """One action with one reason for the claims ticked in the queue."""

    id_prefix = "bulk"

    claims = forms.TypedMultipleChoiceField(
        label=_("Claims"),
        coerce=int,
        error_messages={"required": _("Tick at least one claim.")},
    )
    action = forms.ChoiceField(label=_("Action"))
    reason_code = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        help_text=_("Required to request information or to reject."),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    message = forms.CharField(
        label=_("Message to the partners"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to request information."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Choose an action")), *BULK_ACTIONS.items()]
        self.fields["reason_code"].choices = [
            ("", _("No reason")),
            (_("Request information"), InfoRequestReason.choices),
            (_("Reject"), RejectionReason.choices),
        ]

    def reason_groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The reasons under their action, for the queue's own ``<select>``: Django's widget
        renders each option through a template of its own (2 ms of every queue page)."""
        return [(group, options) for group, options in self.fields["reason_code"].choices[1:]]

    def clean_claims(self) -> list[int]:
        claims = self.cleaned_data["claims"]
        if len(set(claims)) > MAX_BULK_CLAIMS:
            raise forms.ValidationError(_("Tick at most %d claims.") % MAX_BULK_CLAIMS)
        return claims

    def full_clean(self) -> None:
        # Any claim number is accepted here; the service reports each claim's outcome.
        if self.is_bound:
            ids = [v for v in self.data.getlist("claims") if v.isdigit() and len(v) < 12]
            self.fields["claims"].choices = [(v, v) for v in ids]
        super().full_clean()


class LegacyImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, comma-separated, at most 5 MB and 10,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Only check the file, write nothing"), required=False, initial=True
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > LEGACY_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


LEGACY_UPLOAD_MAX_BYTES = 5 * 1024 * 1024
