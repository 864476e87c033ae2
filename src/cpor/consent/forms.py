from django import forms
from django.utils.translation import gettext_lazy as _

from cpor.consent.services import MAX_REASON


class DeclineForm(forms.Form):
    """Which units of one request to decline; the choices are that request's lines only."""

    units = forms.TypedMultipleChoiceField(
        label=_("Units to decline"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose what to decline."),
            "invalid_choice": _("Choose units of this request only."),
        },
    )
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The partner and the program see it."),
    )

    def __init__(self, *args, units=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = [(unit.line.pk, str(unit.line)) for unit in units]


class FreshLinkForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)
