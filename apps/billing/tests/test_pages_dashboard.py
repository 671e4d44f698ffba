"""The dashboard's billing pages: usage and cost to date with its chart's figures, invoices, budgets; and the
overview's cost card. Each project sees its own, and only those who may set budgets get the form."""

import json
import re
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from apps.billing.models import Budget
from apps.billing.services.cycle import run_cycle
from apps.core import policy
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.metering import events as e
from apps.portal.tests.conftest import signed_in

from . import usage as u
from .prices import card, price
from .usage import at

MONTH = "2026-11"
NOW = at("2026-11-03 12:30")


@pytest.fixture
def month_so_far(project, small):
    """An instance running since the 1st 12:00 at 0.10 an hour, 1 GiB of image since the 2nd at 0.01."""
    default = card()
    price(default, e.INSTANCE, "0.1000")
    price(default, e.IMAGE, "0.0100")
    u.instance_running(f"{MONTH}-01 12:00:00", uuid.uuid4(), project, small, name="web")
    u.stored(f"{MONTH}-02 00:00:00", e.IMAGE, uuid.uuid4(), project, 1000)
    run_cycle(NOW)
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def domain_admin(project):
    admin = UserFactory(domain=project.domain, email="admin@example.test")
    grant(admin, policy.DOMAIN_ADMIN, project.domain)
    return admin


def chart_of(response, currency="eur"):
    found = re.search(
        rf'<script id="cost-chart-{currency}" type="application/json">(.*?)</script>', response.text
    )
    return json.loads(found.group(1))


def test_the_cost_page_shows_the_cost_to_date_per_resource_and_per_day(month_so_far, member, project):
    response = signed_in(member).get(f"/dashboard/projects/{project.pk}/billing/")

    assert response.status_code == 200
    # 48 h of the instance (4.80) and 36 GiB-hours of image (0.36), to 12:00 on the 3rd.
    assert "5.16 EUR" in response.text
    assert "48.000000" in response.text
    chart = chart_of(response)
    assert chart["labels"] == ["1", "2", "3"]
    assert [(s["name"], s["values"]) for s in chart["datasets"]] == [
        ("Instances", ["1.20", "2.40", "1.20"]),
        ("Images", ["0.00", "0.24", "0.12"]),
    ]


def test_another_period_is_shown_when_asked_for_and_an_unknown_one_falls_back_to_this_one(
    month_so_far, member, project
):
    client = signed_in(member)
    page = client.get(f"/dashboard/projects/{project.pk}/billing/", {"period": "1999-01"})
    assert page.status_code == 200
    assert "5.16 EUR" in page.text
    assert "Cost to date, 2026-11" in page.text


def test_the_invoices_page_lists_the_projects_invoices_with_their_downloads(
    month_so_far, member, project, small
):
    other = ProjectFactory(domain=project.domain)
    u.instance_running(f"{MONTH}-01 00:00:00", uuid.uuid4(), other, small, name="theirs")
    run_cycle(NOW)
    response = signed_in(member).get(f"/dashboard/projects/{project.pk}/billing/invoices/")

    assert response.status_code == 200
    assert response.text.count(">draft<") == 1
    assert "5.16 EUR" in response.text
    assert "/csv/" in response.text
    assert "format=json" in response.text
    json_link = re.search(r'href="([^"]+format=json)"', response.text).group(1)
    exported = signed_in(member).get(json_link.replace("&amp;", "&"))
    assert (exported.status_code, exported.json()["total"]) == (200, "5.16")


def test_a_domain_admin_sets_a_projects_budget_and_its_notice_goes_out_once(
    month_so_far, domain_admin, member, project
):
    admin = signed_in(domain_admin)
    url = f"/dashboard/projects/{project.pk}/billing/budget/"
    assert 'name="amount"' in admin.get(url).text
    response = admin.post(url, {"amount": "6.00", "currency": "EUR", "notify": ""})

    assert response.status_code == 302
    budget = Budget.objects.get(project=project)
    assert (budget.amount, budget.notify_emails) == (Decimal("6.00"), ["admin@example.test"])
    run_cycle(NOW)
    run_cycle(NOW)
    assert [m.subject for m in mail.outbox] == [f"[cloudmgr] Budget 80% reached: {project.name} (2026-11)"]
    shown = signed_in(member).get(url)
    assert "5.16 of 6.00 EUR" in shown.text
    assert 'name="amount"' not in shown.text


def test_a_member_cannot_set_a_budget(month_so_far, member, project):
    response = signed_in(member).post(
        f"/dashboard/projects/{project.pk}/billing/budget/", {"amount": "6.00", "currency": "EUR"}
    )
    assert response.status_code == 403
    assert not Budget.objects.exists()


def test_a_budget_form_refuses_bad_input_field_by_field(month_so_far, domain_admin, project):
    response = signed_in(domain_admin).post(
        f"/dashboard/projects/{project.pk}/billing/budget/",
        {"amount": "-1", "currency": "XXX", "notify": "not-an-address"},
    )
    assert response.status_code == 400
    assert not Budget.objects.exists()


def test_a_budget_is_changed_and_deleted_from_its_page(month_so_far, domain_admin, member, project):
    admin = signed_in(domain_admin)
    url = f"/dashboard/projects/{project.pk}/billing/budget/"
    admin.post(url, {"amount": "6.00", "currency": "EUR", "notify": ""})
    budget = Budget.objects.get()
    change = f"/billing/budgets/{budget.pk}/"
    prefix = f"budget-{budget.pk}"
    fields = {f"{prefix}-amount": "50.00", f"{prefix}-notify": "a@example.test, b@example.test", "next": url}

    assert signed_in(member).post(change, fields).status_code == 403
    budget.refresh_from_db()
    assert budget.amount == Decimal("6.00")
    assert admin.post(change, fields)["Location"] == url
    budget.refresh_from_db()
    assert (budget.amount, budget.notify_emails) == (Decimal("50.00"), ["a@example.test", "b@example.test"])
    # A way back that is no path of this site (found by the portal's form fuzzer: "0" was a 500).
    for nowhere in ("0", "logout", "//elsewhere.example/"):
        assert admin.post(change, {**fields, "next": nowhere})["Location"] == "/dashboard/"
    delete = f"{change}delete/"
    assert f'href="{delete}?next=' in admin.get(url).text
    assert signed_in(member).post(f"{delete}?next={url}").status_code == 403
    elsewhere = admin.post(f"{delete}?next=https://elsewhere.example/")
    assert elsewhere["Location"] == "/dashboard/"
    assert not Budget.objects.exists()


def test_the_overview_card_shows_the_cost_to_date(month_so_far, member, project):
    response = signed_in(member).get(f"/dashboard/projects/{project.pk}/")
    assert "Cost to date (2026-11)" in response.text
    assert "5.16 EUR" in response.text
