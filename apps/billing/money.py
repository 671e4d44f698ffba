"""The rounding rule, in one place (docs/billing.md).

A line's amount is price per unit-hour x unit-seconds / 3600, computed
exactly and rounded once, to the cent, half up (away from zero). An
invoice's total is the sum of its rounded lines, so the lines always add up
to the total.
"""

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

CENT = Decimal("0.01")
SECONDS_PER_HOUR = 3600
# Enough digits that price (20 digits) x unit-seconds (up to 19) / 3600 is exact
# to far below a cent before the one rounding.
_EXACT = Context(prec=80)


def line_amount(price_per_unit_hour, unit_seconds):
    product = _EXACT.multiply(Decimal(price_per_unit_hour), Decimal(unit_seconds))
    exact = _EXACT.divide(product, SECONDS_PER_HOUR)
    return exact.quantize(CENT, rounding=ROUND_HALF_UP, context=_EXACT)


def unit_hours(unit_seconds):
    """For display: unit-hours to six places (amounts come from the exact seconds)."""
    return (Decimal(unit_seconds) / SECONDS_PER_HOUR).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def parse_amount(value, what):
    """A positive amount of money with at most two decimals, or ValueError naming `what`."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValueError(f"{what} must be a number") from error
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise ValueError(f"{what} must be above 0 with at most two decimals")
    return amount
