"""The admin portal's billing pages: rate cards and their prices, invoices with closing, finalizing and
credit notes, spend per domain, budgets; cloud administrators change prices and invoices, domain
administrators see what concerns their domains."""

import re
import uuid
from decimal import Decimal

import pytest
import time_machine

from apps.billing.models import Budget, Invoice, Rate, RateCard
from apps.billing.services.cycle import run_cycle
from apps.core import policy
from apps.core.tree import ROOT_DOMAIN_ID
from apps.identity.tests.factories import UserFactory, grant
from apps.portal.tests.conftest import signed_in

from . import usage as u
from .invoicing import closing_time, draft_invoice, finalized_invoice, priced
from .usage import at

PAST = "2020-01"


@pytest.fixture
def admin(cloud_admin):
    return signed_in(cloud_admin)


def main(response):
    """The page's own content, without the frame (whose project switcher names every project)."""
    return response.text.split('<main id="main"')[1]


def domain_admin_of(domain):
    user = UserFactory(domain=domain)
    grant(user, policy.DOMAIN_ADMIN, domain)
    return signed_in(user)


def test_a_cloud_admin_makes_a_card_and_prices_it_from_a_whole_hour(admin, small):
    created = admin.post(
        "/admin-portal/billing/rate-cards/", {"name": "list", "currency": "eur", "domain": ""}
    )
    card = RateCard.objects.get()
    assert created["Location"] == f"/admin-portal/billing/rate-cards/{card.pk}/"
    assert (card.currency, card.domain) == ("EUR", None)

    url = f"/admin-portal/billing/rate-cards/{card.pk}/"
    body = {"op": "price", "resource_type": "instance", "offering": str(small.pk), "price": "0.05"}
    refused = admin.post(url, {**body, "effective_from": "2027-01-16T00:30"})
    assert refused.status_code == 400
    assert "A price starts on a whole hour" in refused.text
    assert admin.post(url, {**body, "effective_from": "2027-01-16T00:00"}).status_code == 302
    rate = Rate.objects.get()
    assert (rate.offering_name, rate.price, rate.effective_from) == (
        small.name,
        Decimal("0.05"),
        at("2027-01-16 00:00"),
    )
    page = admin.get(url).text
    assert "2027-01-16 00:00" in page
    assert "offering m1.small" in page

    withdraw = f"{url}prices/{rate.pk}/withdraw/"
    assert f'href="{withdraw}"' in page
    assert admin.post(withdraw).status_code == 302
    assert not Rate.objects.exists()
    assert admin.post(url, {"op": "rename", "name": "list prices"}).status_code == 302
    assert RateCard.objects.get().name == "list prices"


def test_a_second_default_card_is_refused_on_the_form(admin):
    admin.post("/admin-portal/billing/rate-cards/", {"name": "one", "currency": "EUR", "domain": ""})
    again = admin.post("/admin-portal/billing/rate-cards/", {"name": "two", "currency": "USD", "domain": ""})
    assert again.status_code == 409
    assert "already has a rate card" in again.text
    assert RateCard.objects.count() == 1


def test_a_domain_admin_sees_the_cards_that_apply_and_changes_none(places):
    priced()
    theirs = RateCard.objects.create(name="east prices", currency="EUR", domain=places["east"])
    RateCard.objects.create(name="west prices", currency="EUR", domain=places["west"])
    client = domain_admin_of(places["east_lab"])

    listed = client.get("/admin-portal/billing/rate-cards/").text
    assert "east prices" in listed
    assert "west prices" not in listed
    assert 'name="currency"' not in listed
    refused = client.post(
        "/admin-portal/billing/rate-cards/", {"name": "mine", "currency": "EUR", "domain": ""}
    )
    assert refused.status_code == 403
    detail = client.get(f"/admin-portal/billing/rate-cards/{theirs.pk}/")
    assert detail.status_code == 200
    assert "Add the price" not in detail.text
    delete = f"/admin-portal/billing/rate-cards/{theirs.pk}/delete/"
    assert client.get(delete).status_code == client.post(delete).status_code == 403
    assert RateCard.objects.filter(pk=theirs.pk).exists()


def test_deleting_a_domains_card_leaves_its_drafts_to_the_card_above(admin, places):
    card = RateCard.objects.create(name="east prices", currency="EUR", domain=places["east"])
    response = admin.post(f"/admin-portal/billing/rate-cards/{card.pk}/delete/")
    assert response["Location"] == "/admin-portal/billing/rate-cards/"
    assert not RateCard.objects.filter(pk=card.pk).exists()


@pytest.fixture
def two_drafts(places, small):
    """The lab's draft of 1.00 and the shop's of 2.00, the month over and rolled up."""
    priced()
    draft_invoice(places["lab_project"], small, month=PAST)
    draft_invoice(places["west_project"], small, hours=20, month=PAST)


def test_invoices_of_a_period_are_listed_per_domain_and_the_period_is_closed_from_the_page(
    admin, places, two_drafts
):

    listed = admin.get("/admin-portal/billing/invoices/", {"period": PAST}).text
    assert "3.00 EUR" in listed
    east_only = admin.get(
        "/admin-portal/billing/invoices/", {"period": PAST, "domain": str(places["east"].pk)}
    )
    assert "1.00 EUR" in east_only.text
    assert "shop" not in main(east_only)

    with time_machine.travel(closing_time(PAST), tick=False):
        closed = admin.post("/admin-portal/billing/invoices/", {"period": PAST})
    assert closed.status_code == 302
    assert set(Invoice.objects.values_list("state", flat=True)) == {Invoice.FINALIZED}


def test_closing_a_period_that_is_not_over_says_why_on_the_form(admin, places, small):
    priced()
    draft_invoice(places["lab_project"], small, month=PAST)
    with time_machine.travel(at(f"{PAST}-20 00:00"), tick=False):
        refused = admin.post("/admin-portal/billing/invoices/", {"period": PAST})
    assert refused.status_code == 409
    assert "is not over yet" in refused.text
    assert not Invoice.objects.filter(state=Invoice.FINALIZED).exists()


def test_an_invoice_is_finalized_then_credited_from_its_page(admin, places, small):
    priced()
    invoice = draft_invoice(places["lab_project"], small, month=PAST)
    url = f"/admin-portal/billing/invoices/{invoice.pk}/"
    with time_machine.travel(closing_time(PAST), tick=False):
        assert admin.post(f"{url}finalize/").status_code == 302
    invoice.refresh_from_db()
    assert invoice.number == "INV-00000001"

    too_much = admin.post(url, {"op": "credit", "amount": "1.01", "reason": "outage"})
    assert too_much.status_code == 409
    assert "is too much" in too_much.text
    assert admin.post(url, {"op": "credit", "amount": "0.40", "reason": "outage"}).status_code == 302
    note = Invoice.objects.get(kind=Invoice.CREDIT_NOTE)
    assert (note.number, note.total, note.reason) == ("CN-00000001", Decimal("-0.40"), "outage")
    assert "CN-00000001" in admin.get(url).text


def test_a_domain_admin_sees_its_invoices_and_may_not_finalize_or_credit(places, small):
    priced()
    invoice = finalized_invoice(places["lab_project"], small, month=PAST)
    client = domain_admin_of(places["east"])
    page = client.get(f"/admin-portal/billing/invoices/{invoice.pk}/")
    assert page.status_code == 200
    assert "Issue the credit note" not in page.text
    assert "Finalize now" not in page.text
    refused = client.post(
        f"/admin-portal/billing/invoices/{invoice.pk}/", {"amount": "0.10", "reason": "mine"}
    )
    assert refused.status_code == 403
    assert not Invoice.objects.filter(kind=Invoice.CREDIT_NOTE).exists()
    assert "Close and finalize" not in client.get("/admin-portal/billing/invoices/").text


def test_spend_per_domain_goes_down_the_tree_one_level_at_a_time(admin, places, two_drafts):

    top = main(admin.get("/admin-portal/billing/spend/", {"period": PAST}))
    assert "3.00 EUR" in top
    below_root = main(
        admin.get("/admin-portal/billing/spend/", {"period": PAST, "domain": str(ROOT_DOMAIN_ID)})
    )
    assert below_root.index("west") < below_root.index("east")
    assert "2.00 EUR" in below_root
    assert "1.00 EUR" in below_root
    below_east = admin.get("/admin-portal/billing/spend/", {"period": PAST, "domain": str(places["east"].pk)})
    assert "east-lab" in main(below_east)
    assert "west" not in main(below_east)


def test_a_domain_admin_sees_the_spend_of_its_own_subtree_only(places, two_drafts):
    client = domain_admin_of(places["east"])
    page = main(client.get("/admin-portal/billing/spend/", {"period": PAST}))
    assert "1.00 EUR" in page
    assert "2.00 EUR" not in page
    asked = client.get("/admin-portal/billing/spend/", {"period": PAST, "domain": str(places["west"].pk)})
    assert asked.status_code == 404
    invoices = client.get(
        "/admin-portal/billing/invoices/", {"period": PAST, "domain": str(places["west"].pk)}
    )
    assert invoices.status_code == 404
    for garbage in ({"domain": "not-an-id"}, {"period": "<b>", "state": "nonsense", "page": "x"}):
        assert client.get("/admin-portal/billing/invoices/", garbage).status_code in (200, 404)
        assert client.get("/admin-portal/billing/spend/", garbage).status_code in (200, 404)


def test_a_domain_admin_sets_a_budget_on_its_domain_and_not_on_another(places):
    priced()
    client = domain_admin_of(places["east"])
    set_here = client.post(
        "/admin-portal/billing/budgets/",
        {"domain": str(places["east_lab"].pk), "amount": "100", "currency": "EUR"},
    )
    assert set_here.status_code == 302
    refused = client.post(
        "/admin-portal/billing/budgets/",
        {"domain": str(places["west"].pk), "amount": "100", "currency": "EUR"},
    )
    assert refused.status_code == 400
    assert list(Budget.objects.values_list("domain__name", flat=True)) == ["east-lab"]
    assert "east-lab" in client.get("/admin-portal/billing/budgets/").text


def test_the_admin_overview_has_a_billing_card(admin, places, small):
    priced()
    u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), places["west_project"], small)
    run_cycle(at("2026-11-01 10:30"))
    with time_machine.travel(at("2026-11-01 10:30"), tick=False):
        page = admin.get("/admin-portal/").text
    assert "Drafts to date (2026-11)" in page
    assert "1.00 EUR" in page


def test_the_invoices_list_searches_sorts_on_its_columns_and_pages_keeping_its_filters(admin, places):
    """Drafts bulk-made (no usage behind them): only the list's reads are under test."""
    start, end = at(f"{PAST}-01 00:00"), at("2020-02-01 00:00")
    project = places["west_project"]
    Invoice.objects.bulk_create(
        Invoice(
            project_id=uuid.uuid4(),
            project_name=f"p-{n:03}",
            domain_path=project.domain.path,
            period_start=start,
            period_end=end,
            currency="EUR",
            total=Decimal(n),
        )
        for n in range(60)
    )
    url = "/admin-portal/billing/invoices/"

    def listed(text):
        return re.findall(r"<td>(p-\d{3})</td>", text.split('id="list-title"')[1])

    first = admin.get(url, {"period": PAST, "sort": "-total"}).text
    assert listed(first)[:2] == ["p-059", "p-058"]
    assert 'aria-sort="descending"' in first
    following = re.search(r'href="(\?[^"]*page=2[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "period=2020-01" in following
    assert "sort=-total" in following
    assert listed(admin.get(url + following).text)[-1] == "p-000"
    assert listed(admin.get(url, {"period": PAST, "q": "p-04"}).text) == [f"p-04{n}" for n in range(10)]
    unknown = admin.get(url, {"period": PAST, "sort": "domain_path"})
    assert listed(unknown.text)[:2] == ["p-000", "p-001"]
