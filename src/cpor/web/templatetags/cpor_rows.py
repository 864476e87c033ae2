"""``{% jinja_rows "app/rows.html" rows=… labels=… %}``: a list's rows rendered by the
Jinja2 engine (settings.TEMPLATES, "rows") inside a page of Django's engine."""

from django import template
from django.template import engines
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def jinja_rows(template_name: str, **context) -> str:
    # Jinja2 escapes every value it prints (web/jinja2.py turns autoescape on).
    return mark_safe(engines["rows"].get_template(template_name).render(context))  # noqa: S308
