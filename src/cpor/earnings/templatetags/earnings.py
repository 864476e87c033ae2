"""``{{ amount|money:currency }}``: an amount as people read it in the active language
(``1.234,50 EUR`` in Portuguese), with the currency's minor-unit digits. Only for
visible text: CSV, JSON and SVG keep plain numbers."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from cpor.earnings.money import CURRENCIES

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    if amount is None or amount == "":
        return "—"
    digits = CURRENCIES.get(currency, 2)
    return f"{number_format(amount, decimal_pos=digits, force_grouping=True)} {currency}"


@register.filter
def amount_in(totals: dict | None, currency: str) -> Decimal | None:
    """The amount of one currency in a per-currency dict, or None."""
    return (totals or {}).get(currency)
