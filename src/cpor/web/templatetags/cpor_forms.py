"""Render form widgets with Bootstrap classes and the ARIA links to their help and errors."""

from django import template
from django.forms import BoundField

register = template.Library()

_CLASSES = {
    "select": "form-select",
    "selectmultiple": "form-select",
    "checkbox": "form-check-input",
    "radioselect": "",
    "checkboxselectmultiple": "",
}


@register.filter
def bootstrap(field: BoundField) -> str:
    css = _CLASSES.get(field.widget_type, "form-control")
    existing = field.field.widget.attrs.get("class", "")
    classes = " ".join(c for c in (existing, css, "is-invalid" if field.errors else "") if c)
    attrs: dict[str, str] = {"class": classes} if classes else {}
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        described.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
