"""The billing pages in Chromium at a laptop's and a phone's width: nothing wider than the window, the charts
drawn from their figures, and the forms used as a person uses them. Screenshots go to
test-artifacts/screenshots/billing-*.png."""

import uuid

import pytest

from apps.billing.models import Budget, Invoice, Rate
from apps.billing.services.budgets import create_budget
from apps.billing.services.cycle import run_cycle
from apps.billing.services.rate_cards import create_rate_card
from apps.compute.tests.factories import OfferingFactory
from apps.core import policy
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.metering import events as e
from apps.portal.tests import browser

from . import usage as u
from .invoicing import closing_time, finalized_invoice, priced
from .prices import SYSTEM, price
from .usage import at

pytestmark = pytest.mark.browser
PAST = "2020-01"

# Drawn and at rest: frappe-charts first draws an empty frame, then the data; no animation runs.
CHARTS_DRAWN = """() => {
  const figures = [...document.querySelectorAll("figure.billing-chart")];
  return figures.length > 0
    && figures.every(f => [...f.querySelectorAll("rect.bar")].some(r => +r.getAttribute("height") > 0))
    && !document.querySelector("figure.billing-chart animate, figure.billing-chart animateTransform");
}"""

# Per dataset of the chart, how many of its bars stand above the axis.
BARS_WITH_HEIGHT = """() => [...document.querySelectorAll("figure.billing-chart .dataset-units")].map(
  set => [...set.querySelectorAll("rect.bar")].filter(r => +r.getAttribute("height") > 0).length)"""


def a_month_of_usage(project, second_project):
    """December's invoices finalized, January's drafts: instances, an image and a snapshot, two places."""
    default = priced()
    price(default, e.INSTANCE, "0.1000", start="2019-12-01 00:00")
    price(default, e.IMAGE, "0.0100", start="2019-12-01 00:00")
    price(default, e.SNAPSHOT, "0.0200", start="2019-12-01 00:00")
    small = OfferingFactory(name="m1.small")
    finalized_invoice(project, small, hours=20, month="2019-12")
    for day, hours in ((3, 20), (9, 12), (17, 23), (24, 16)):
        vm = uuid.uuid4()
        u.instance_running(f"{PAST}-{day:02d} 00:00:00", vm, project, small, name=f"web-{day}")
        u.instance_stopped(f"{PAST}-{day:02d} {hours:02d}:00:00", vm, project)
    u.stored(f"{PAST}-05 00:00:00", e.IMAGE, uuid.uuid4(), project, 20 * 1024**3)
    u.stored(f"{PAST}-12 00:00:00", e.SNAPSHOT, uuid.uuid4(), project, 8 * 1024**3)
    u.instance_running(f"{PAST}-02 00:00:00", uuid.uuid4(), second_project, small, name="shop")
    run_cycle(closing_time(PAST))


@pytest.fixture
def billed(root, cloud_admin):
    domain = DomainFactory(name="east")
    project = ProjectFactory(domain=domain, name="storefront")
    second = ProjectFactory(domain=DomainFactory(name="west"), name="shop")
    a_month_of_usage(project, second)
    create_rate_card(SYSTEM, name="east prices", currency="EUR", domain=domain)
    create_budget(SYSTEM, project=project, amount="40.00", currency="EUR", notify_emails=["ops@example.test"])
    grant(cloud_admin, policy.PROJECT_MEMBER, project)
    return project


def pages(project):
    base = f"/dashboard/projects/{project.pk}/billing"
    invoice = project_invoice(project)
    card = Rate.objects.first().card
    return {
        "costs": f"{base}/?period={PAST}",
        "invoices": f"{base}/invoices/",
        "budget": f"{base}/budget/",
        "admin-rate-cards": "/admin-portal/billing/rate-cards/",
        "admin-rate-card": f"/admin-portal/billing/rate-cards/{card.pk}/",
        "admin-invoices": f"/admin-portal/billing/invoices/?period={PAST}",
        "admin-invoice": f"/admin-portal/billing/invoices/{invoice.pk}/",
        "admin-spend": f"/admin-portal/billing/spend/?period={PAST}&domain={project.domain.parent_id}",
        "admin-budgets": "/admin-portal/billing/budgets/",
        "printable-invoice": f"/billing/invoices/{invoice.pk}/",
    }


def project_invoice(project):
    return Invoice.objects.filter(project_id=project.pk).order_by("period_start").first()


@pytest.mark.parametrize("viewport", [browser.LAPTOP, browser.PHONE], ids=["laptop", "phone"])
def test_the_billing_pages_fit_laptops_and_phones_and_draw_their_charts(
    browsing, cloud_admin, billed, viewport
):
    page = browsing.signed_in_page(cloud_admin, viewport=viewport)
    for name, url in pages(billed).items():
        assert page.goto(url).status == 200, url
        if page.locator("figure.billing-chart").count():
            page.wait_for_function(CHARTS_DRAWN)
        sticking_out = browser.overflowing(page)
        assert not sticking_out, f"{name}: wider than {viewport['width']}px: {sticking_out}"
        browser.screenshot(page, f"billing-{name}")


def test_the_cost_chart_has_a_bar_for_each_day_with_usage(browsing, cloud_admin, billed):
    page = browsing.signed_in_page(cloud_admin)
    page.goto(f"/dashboard/projects/{billed.pk}/billing/?period={PAST}")
    page.wait_for_function(CHARTS_DRAWN)
    # The costliest first: the image from the 5th to the end (27 days), the snapshot from the 12th (20),
    # the instances on 4 days.
    assert page.evaluate(BARS_WITH_HEIGHT) == [27, 20, 4]


def test_a_cloud_admin_adds_a_price_with_the_form(browsing, cloud_admin, billed):
    page = browsing.signed_in_page(cloud_admin, viewport=browser.PHONE)
    card = Rate.objects.first().card
    page.goto(f"/admin-portal/billing/rate-cards/{card.pk}/")
    page.get_by_label("Resource type").select_option("floating_ip")
    page.get_by_label("Price per unit-hour").fill("0.005")
    page.get_by_label("Effective from (UTC)").fill("2030-01-01T00:00")
    page.get_by_role("button", name="Add the price").click()
    page.wait_for_load_state()
    assert "Price added" in page.locator(".messages").inner_text()
    added = Rate.objects.get(resource_type="floating_ip")
    assert added.effective_from == at("2030-01-01 00:00")


def test_a_domain_admin_sets_a_projects_budget_with_the_form(browsing, billed):
    admin = UserFactory(domain=billed.domain, email="east-admin@example.test")
    grant(admin, policy.DOMAIN_ADMIN, billed.domain)
    page = browsing.signed_in_page(admin, viewport=browser.PHONE)
    Budget.objects.all().delete()
    page.goto(f"/dashboard/projects/{billed.pk}/billing/budget/")
    page.get_by_label("Budget per period").fill("25.50")
    page.get_by_role("button", name="Set the budget").click()
    page.wait_for_load_state()
    assert "Budget set: 25.50 EUR a period." in page.locator(".messages").inner_text()
    assert Budget.objects.get(project=billed).notify_emails == ["east-admin@example.test"]


def test_a_domain_name_written_as_html_stays_text_in_the_spend_charts_tooltip(browsing, cloud_admin, billed):
    hostile = DomainFactory(name='<img src=x onerror="window.pwned=1">')
    u.instance_running(f"{PAST}-02 00:00:00", uuid.uuid4(), ProjectFactory(domain=hostile), OfferingFactory())
    run_cycle(closing_time(PAST))
    page = browsing.signed_in_page(cloud_admin)
    page.goto(f"/admin-portal/billing/spend/?period={PAST}&domain={hostile.parent_id}")
    page.wait_for_function(CHARTS_DRAWN)
    for bar in page.locator("figure.billing-chart rect.bar").all():
        if float(bar.get_attribute("height")) > 0:
            bar.hover()
            if hostile.name in page.locator(".graph-svg-tip .title").inner_text():
                break
    assert hostile.name in page.locator(".graph-svg-tip .title").inner_text()
    assert page.evaluate("window.pwned") is None
