"""What every app's forms share: a service's refusal shown on the field it names."""

from django import forms

from cpor.errors import DomainError


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the field it names (or above the form)."""
    for item in getattr(error, "errors", None) or [error]:
        field = item.field if item.field in form.fields else None
        form.add_error(field, item.message)
