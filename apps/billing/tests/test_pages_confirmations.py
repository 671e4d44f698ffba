"""Billing's actions that cannot be undone ask first: opening their address is a confirmation that names
what goes and changes nothing; those who may not do it are refused before any confirmation, and another
tenant's object is not found. The spend per domain is a section of the admin portal's monitoring page."""

import pytest

from apps.billing.models import Budget, Invoice, RateCard
from apps.billing.services.budgets import create_budget
from apps.core.actor import Actor
from apps.metering import events as e
from apps.portal.tests.conftest import signed_in

from .invoicing import draft_invoice, finalized_invoice, priced
from .prices import price
from .test_pages_admin import PAST, domain_admin_of

SYSTEM = Actor.system("test")


@pytest.fixture
def things(places, small):
    default = priced()
    lab = RateCard.objects.create(name="lab prices", currency="EUR", domain=places["east_lab"])
    return {
        "draft": draft_invoice(places["lab_project"], small, month=PAST),
        "card": lab,
        "rate": price(default, e.IMAGE, "0.0100"),
        "budget": create_budget(SYSTEM, domain=places["east_lab"], amount="50.00", currency="EUR"),
    }


# (address, words its confirmation says, the object that must still be there unchanged)
DESTRUCTIVE = [
    (
        lambda t: f"/admin-portal/billing/invoices/{t['draft'].pk}/finalize/",
        "Finalize the invoice of lab for 2020-01?",
        "draft",
    ),
    (
        lambda t: f"/admin-portal/billing/rate-cards/{t['card'].pk}/delete/",
        "Delete rate card lab prices?",
        "card",
    ),
    (
        lambda t: f"/admin-portal/billing/rate-cards/{t['rate'].card_id}/prices/{t['rate'].pk}/withdraw/",
        "Withdraw the price of image from 2026-11-01 00:00 UTC?",
        "rate",
    ),
    (lambda t: f"/billing/budgets/{t['budget'].pk}/delete/", "Delete the budget of 50.00 EUR for", "budget"),
]

NAMES = ["finalize", "card", "price", "budget"]


@pytest.mark.parametrize(("address", "says", "kept"), DESTRUCTIVE, ids=NAMES)
def test_a_billing_action_that_cannot_be_undone_asks_first_and_changes_nothing(
    cloud_admin, things, address, says, kept
):
    obj = things[kept]
    before = type(obj).objects.filter(pk=obj.pk).values().get()

    response = signed_in(cloud_admin).get(address(things))

    page = response.content.decode()
    assert response.status_code == 200
    assert says in page
    assert 'id="confirmation"' in page
    assert f'<form method="post" action="{address(things)}' in page
    assert type(obj).objects.filter(pk=obj.pk).values().get() == before


@pytest.mark.parametrize(("address", "says", "kept"), DESTRUCTIVE, ids=NAMES)
def test_another_domains_admin_is_refused_or_finds_nothing_and_nothing_goes(
    places, things, address, says, kept
):
    west = domain_admin_of(places["west"])
    obj = things[kept]

    asked, sent = west.get(address(things)), west.post(address(things))

    assert asked.status_code == sent.status_code
    assert asked.status_code in (403, 404)
    assert says not in asked.content.decode()
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_the_domains_own_admin_deletes_its_budget_but_may_not_finalize_its_invoice(places, things):
    east = domain_admin_of(places["east"])
    finalize = f"/admin-portal/billing/invoices/{things['draft'].pk}/finalize/"
    assert east.get(finalize).status_code == east.post(finalize).status_code == 403

    deleted = east.post(f"/billing/budgets/{things['budget'].pk}/delete/?next=/admin-portal/billing/budgets/")

    assert deleted["Location"] == "/admin-portal/billing/budgets/"
    assert not Budget.objects.exists()
    assert Invoice.objects.get().state == Invoice.DRAFT


def test_a_finalized_invoice_has_no_finalize_address(cloud_admin, places, small):
    priced()
    invoice = finalized_invoice(places["lab_project"], small, month=PAST)
    finalize = f"/admin-portal/billing/invoices/{invoice.pk}/finalize/"
    assert signed_in(cloud_admin).get(finalize).status_code == 404


def test_the_monitoring_page_shows_the_spend_per_domain_of_what_one_administers(cloud_admin, places, small):
    priced()
    draft_invoice(places["lab_project"], small, month=PAST)
    draft_invoice(places["west_project"], small, hours=20, month=PAST)

    everything = signed_in(cloud_admin).get("/admin-portal/monitoring/", {"period": PAST}).text
    east_only = domain_admin_of(places["east"]).get("/admin-portal/monitoring/", {"period": PAST}).text

    spend = everything.split('id="section-spend"')[1]
    assert "3.00 EUR" in spend
    assert "billing/charts.js" in spend
    east_spend = east_only.split('id="section-spend"')[1]
    assert "1.00 EUR" in east_spend
    assert "2.00 EUR" not in east_spend
