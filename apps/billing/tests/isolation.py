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


def _budget_of_tenant_b(tenants):
    priced()
    return create_budget(SYSTEM, project=tenants.other.project, amount="10.00", currency="EUR")


@per_tenant("api:budget-detail")
def another_tenants_budget(tenants):
    budget = _budget_of_tenant_b(tenants)
    return Case.of(budget, body={"amount": "20.00"})


@per_tenant("billing:project-costs", "billing:project-invoices", "billing:project-budget")
def another_tenants_projects_billing_pages(tenants):
    priced()
    project = tenants.other.project
    return Case(project, {"project_id": project.pk}, body={"amount": "10.00", "currency": "EUR"})


@per_tenant("billing:budget-change")
def another_tenants_budget_on_its_page(tenants):
    budget = _budget_of_tenant_b(tenants)
    prefix = f"budget-{budget.pk}"
    return Case.of(budget, body={f"{prefix}-amount": "20.00", f"{prefix}-notify": ""}, kwarg="budget_id")


@per_tenant("billing:admin-rate-card")
def another_tenants_rate_card_page(tenants):
    card, _ = _card_of_tenant_b(tenants)
    return Case.of(card, body={"op": "rename", "name": "renamed-by-tenant-a"}, kwarg="card_id")


@per_tenant("billing:admin-invoice")
def another_tenants_invoice_page(tenants):
    invoice = _invoice_of_tenant_b(tenants, finalized=True)
    return Case.of(
        invoice, body={"op": "credit", "amount": "0.10", "reason": "credited by tenant a"}, kwarg="invoice_id"
    )


@per_tenant("billing:admin-invoice-finalize")
def another_tenants_draft_invoice_to_finalize_from_its_page(tenants):
    return Case.of(_invoice_of_tenant_b(tenants, finalized=False), kwarg="invoice_id")


@per_tenant("billing:admin-rate-card-delete")
def another_tenants_rate_card_to_delete_from_its_page(tenants):
    card, _ = _card_of_tenant_b(tenants)
    return Case.of(card, kwarg="card_id")


@per_tenant("billing:admin-rate-withdraw")
def another_tenants_price_to_withdraw_from_its_page(tenants):
    card, rate = _card_of_tenant_b(tenants)
    return Case(rate, {"card_id": card.pk, "rate_id": rate.pk})


@per_tenant("billing:budget-delete")
def another_tenants_budget_to_delete_from_its_page(tenants):
    budget = _budget_of_tenant_b(tenants)
    return Case.of(budget, kwarg="budget_id")
