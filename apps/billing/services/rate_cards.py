"""Rate cards and their prices: the default card, a card per domain, prices that start on whole hours.

Prices are not edited: a new price is a new rate with a later effective_from,
so past hours keep the price they had. A rate can be withdrawn until a
finalized invoice charged it. Every change makes the next billing cycle draft
the open invoices again.
"""

import re
from datetime import UTC
from decimal import Decimal, InvalidOperation

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.services.common import require, save_unique
from apps.metering.events import INSTANCE, RESOURCE_TYPES

from ..models import Invoice, InvoiceLine, Rate, RateCard
from .invoices import prices_changed

CURRENCY = re.compile(r"^[A-Z]{3}$")
PRICE_PLACES = 10


def checked_currency(currency):
    currency = str(currency or "").upper()
    if not CURRENCY.match(currency):
        raise ValidationFailed("A currency is a three-letter ISO 4217 code such as EUR.", code="bad_currency")
    return currency


def create_rate_card(actor, *, name, currency, domain=None):
    action = "billing.rate_card.create"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "You may not create rate cards.")
        card = RateCard(name=name, currency=checked_currency(currency), domain=domain)
        op.object = card
        where = f"Domain {domain}" if domain else "The cloud"
        save_unique(card, f"{where} already has a rate card.")
        prices_changed()
    return card


def rename_rate_card(actor, card, *, name):
    action = "billing.rate_card.update"
    with audited(actor, action, target=PLATFORM, obj=card) as op:
        require(actor, action, PLATFORM, f"You may not change rate card {card}.")
        op.details = {"name": name}
        card.name = name
        card.save(update_fields=["name"])
    return card


def delete_rate_card(actor, card):
    """Drafts fall back to the card above; finalized invoices keep the prices they were charged."""
    action = "billing.rate_card.delete"
    with audited(actor, action, target=PLATFORM, obj=card):
        require(actor, action, PLATFORM, f"You may not delete rate card {card}.")
        card.delete()
        prices_changed()


def _checked_price(price):
    try:
        value = Decimal(str(price))
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed("The price must be a number.", code="bad_price") from error
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal(1).scaleb(-PRICE_PLACES)):
        raise ValidationFailed(
            f"A price is 0 or more, with at most {PRICE_PLACES} decimals.", code="bad_price"
        )
    if value >= Decimal(10) ** (20 - PRICE_PLACES):
        raise ValidationFailed("That price is too large.", code="bad_price")
    return value


def _checked_start(effective_from):
    if effective_from.tzinfo is None:
        raise ValidationFailed("Give effective_from with its time zone.", code="bad_effective_from")
    if effective_from.minute or effective_from.second or effective_from.microsecond:
        raise ValidationFailed(
            "A price starts on a whole hour (so that every hour has one price).", code="bad_effective_from"
        )
    return effective_from.astimezone(UTC)


def _offering(resource_type, offering_id):
    if offering_id is None:
        return ""
    if resource_type != INSTANCE:
        raise ValidationFailed("Only instance prices can be for one offering.", code="offering_not_priced")
    from apps.compute.models import ServiceOffering

    offering = ServiceOffering.objects.filter(pk=offering_id).first()
    if offering is None:
        raise ValidationFailed("No such offering.", code="offering_not_found")
    return offering.name


def add_rate(actor, card, *, resource_type, price, effective_from, offering_id=None):
    """Price `resource_type` (or one instance offering) per unit-hour from `effective_from` on."""
    action = "billing.rate_card.update"
    with audited(actor, action, target=PLATFORM, obj=card) as op:
        require(actor, action, PLATFORM, f"You may not change rate card {card}.")
        if resource_type not in RESOURCE_TYPES:
            raise ValidationFailed(
                f"Unknown resource type {resource_type!r}: one of {', '.join(RESOURCE_TYPES)}.",
                code="unknown_resource_type",
            )
        rate = Rate(
            card=card,
            resource_type=resource_type,
            offering_id=offering_id,
            offering_name=_offering(resource_type, offering_id),
            price=_checked_price(price),
            effective_from=_checked_start(effective_from),
        )
        op.details = {
            "resource_type": resource_type,
            "offering": rate.offering_name,
            "price": str(rate.price),
            "effective_from": rate.effective_from.isoformat(),
        }
        save_unique(rate, "This card already has a price for that, starting then.")
        prices_changed()
    return rate


def withdraw_rate(actor, rate):
    action = "billing.rate_card.update"
    with audited(actor, action, target=PLATFORM, obj=rate.card) as op:
        require(actor, action, PLATFORM, f"You may not change rate card {rate.card}.")
        op.details = {"withdrawn": str(rate)}
        if InvoiceLine.objects.filter(rate_id=rate.pk, invoice__state=Invoice.FINALIZED).exists():
            raise Conflict(
                "A finalized invoice charged this price: add a new price instead.", code="rate_invoiced"
            )
        rate.delete()
        prices_changed()
