"""What every app's forms share: a service's refusal shown on the field it names, and
ids of their own for forms that share a page."""

from django import forms

from cpor.errors import DomainError


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the field it names (or above the form)."""
    for item in getattr(error, "errors", None) or [error]:
        field = item.field if item.field in form.fields else None
        form.add_error(field, item.message)


class PageForm(forms.Form):
    """A form that shares its page with others: its elements' ids carry ``id_prefix``, so
    each label focuses its own field; the names it posts stay the same."""

    id_prefix = ""

    def __init__(self, *args, **kwargs) -> None:
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
