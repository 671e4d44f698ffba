"""Rate cards for tests, made through the service as an operator would."""

from decimal import Decimal

from apps.billing.services.rate_cards import add_rate, create_rate_card
from apps.core.actor import Actor

from .usage import at

SYSTEM = Actor.system("test")
MONTH_START = "2026-11-01 00:00"


def card(currency="EUR", domain=None, name=None):
    return create_rate_card(
        SYSTEM, name=name or f"card of {domain or 'the cloud'}", currency=currency, domain=domain
    )


def price(on, resource_type, amount, *, offering=None, start=MONTH_START):
    return add_rate(
        SYSTEM,
        on,
        resource_type=resource_type,
        price=Decimal(amount),
        effective_from=at(start),
        offering_id=offering.pk if offering else None,
    )
