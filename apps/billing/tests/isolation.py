"""Tenant-isolation cases of the billing routes (see apps/core/tests/isolation.py).

Invoices are made the way production makes them (usage, a cycle, a closed
period), for a month long past, so the cloud admin's finalize finds it over.
"""

import uuid

from apps.billing.services.budgets import create_budget
from apps.billing.services.rate_cards import add_rate, create_rate_card
from apps.compute.tests.factories import OfferingFactory
from apps.core.actor import Actor
from apps.core.tests.isolation import Case, per_tenant
from apps.metering import events as e

from .invoicing import draft_invoice, finalized_invoice, priced
from .usage import at

SYSTEM = Actor.system("test")


PAST_MONTH = "2020-01"


def _invoice_of_tenant_b(tenants, finalized):
    priced()
    make = finalized_invoice if finalized else draft_invoice
    offering = OfferingFactory(name=f"offering-{uuid.uuid4().hex[:8]}")
    return make(tenants.other.project, offering, month=PAST_MONTH)


@per_tenant("api:invoice-detail", "api:invoice-csv")
def another_tenants_invoice(tenants):
    return Case.of(_invoice_of_tenant_b(tenants, finalized=True))


@per_tenant("billing:invoice-page")
def another_tenants_printable_invoice(tenants):
    return Case.of(_invoice_of_tenant_b(tenants, finalized=True), kwarg="invoice_id")


@per_tenant("api:invoice-finalize")
def another_tenants_draft_invoice(tenants):
    return Case.of(_invoice_of_tenant_b(tenants, finalized=False))


@per_tenant("api:invoice-credit-notes")
def another_tenants_invoice_to_credit(tenants):
    invoice = _invoice_of_tenant_b(tenants, finalized=True)
    return Case.of(invoice, body={"amount": "0.10", "reason": "credited by tenant a"})


def _card_of_tenant_b(tenants):
    card = create_rate_card(SYSTEM, name="card-of-tenant-b", currency="EUR", domain=tenants.other.domain)
    rate = add_rate(SYSTEM, card, resource_type=e.NETWORK, price="0.5", effective_from=at("2030-01-01 00:00"))
    return card, rate


@per_tenant("api:rate-card-detail")
def another_tenants_rate_card(tenants):
    card, _ = _card_of_tenant_b(tenants)
    return Case.of(card, body={"name": "renamed-by-tenant-a"})


@per_tenant("api:rate-card-rates")
def another_tenants_rate_card_prices(tenants):
    card, _ = _card_of_tenant_b(tenants)
    body = {"resource_type": e.FLOATING_IP, "price": "0.01", "effective_from": "2030-02-01T00:00:00Z"}
    return Case.of(card, body=body)


@per_tenant("api:rate-card-rate")
def another_tenants_rate_card_price(tenants):
    card, rate = _card_of_tenant_b(tenants)
    return Case(rate, {"pk": card.pk, "rate_id": rate.pk})


@per_tenant("api:budget-detail")
def another_tenants_budget(tenants):
    priced()
    budget = create_budget(SYSTEM, project=tenants.other.project, amount="10.00", currency="EUR")
    return Case.of(budget, body={"amount": "20.00"})
