from django import forms
from django.utils.translation import gettext_lazy as _


def _lines(value: str) -> list[str]:
    return [part for part in value.replace(",", "\n").split() if part]


class SignOnForm(forms.Form):
    tenant_ids = forms.CharField(
        label=_("Tenant IDs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One directory (tenant) ID per line, as Entra ID shows it."),
    )
    domains = forms.CharField(
        label=_("E-mail domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One domain per line, such as contoso.com."),
    )
    invite_only = forms.BooleanField(
        label=_("Invite only: refuse people we have not invited"),
        required=False,
        help_text=_(
            "When off, anyone who signs in through a linked tenant or domain is added as "
            "an incentives user (read only)."
        ),
    )
    sso_required = forms.BooleanField(
        label=_("Require single sign-on: refuse password and passkey sign-in"),
        required=False,
    )

    def cleaned_lists(self) -> tuple[list[str], list[str]]:
        return _lines(self.cleaned_data["tenant_ids"]), _lines(self.cleaned_data["domains"])
