"""Money: a ``Decimal`` amount with its currency, never a float.

Rounding rule: an amount is computed exactly in ``Decimal`` and rounded once, per
association, month and rate card version, to its currency's minor unit (cents; none
for JPY) half up (``ROUND_HALF_UP``: 0.005 becomes 0.01). Totals add those rounded
amounts, so a total always equals the sum of the lines shown beside it.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 codes a rate card may use, with their minor-unit digits.
CURRENCIES: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "BRL": 2,
    "CAD": 2,
    "AUD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "JPY": 0,
}
ROUNDING = ROUND_HALF_UP


def quantize(amount: Decimal, currency: str) -> Decimal:
    """The amount rounded to the currency's minor unit, half up."""
    digits = CURRENCIES.get(currency, 2)
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUNDING)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money takes a Decimal amount, never a float")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def add_to(totals: dict[str, Decimal], money: Money) -> None:
    """Add to per-currency totals: amounts in different currencies are never summed."""
    totals[money.currency] = totals.get(money.currency, Decimal(0)) + money.amount
