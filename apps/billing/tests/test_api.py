"""The billing API: usage, rate cards, invoices (JSON, CSV, per domain) and budgets, each tenant its own."""

import csv
import io
import uuid

import pytest
from django.core import mail

from apps.billing.models import Invoice
from apps.compute.tests.factories import OfferingFactory
from apps.conftest import login
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.metering import events as e

from . import usage as u
from .invoicing import draft_invoice, finalized_invoice, priced
from .prices import card, price

PAST = "2020-01"


@pytest.fixture
def tenants(root):
    """Two sibling domains, each with a project, a member (project-scoped token) and an admin."""
    made = {}
    for name in ("a", "b"):
        domain = DomainFactory(name=f"domain-{name}")
        project = ProjectFactory(domain=domain, name=f"project-{name}")
        member = UserFactory(domain=domain, username=f"member-{name}")
        admin = UserFactory(domain=domain, username=f"admin-{name}", email=f"admin-{name}@example.test")
        grant(member, "project_member", project)
        grant(admin, "domain_admin", domain)
        made[name] = {
            "domain": domain,
            "project": project,
            "member": login(member, project_id=project.pk),
            "admin": login(admin),
        }
    return made


def test_a_member_sees_the_hourly_usage_of_its_own_project_only(tenants, small):
    a, b = tenants["a"], tenants["b"]
    vm_a, vm_b = uuid.uuid4(), uuid.uuid4()
    u.instance_running(f"{PAST}-02 00:00:00", vm_a, a["project"], small)
    u.instance_running(f"{PAST}-02 00:00:00", vm_b, b["project"], small)
    priced()
    draft_invoice(a["project"], small, month=PAST)

    rows = a["member"].get("/api/v1/usage/", {"resource_id": str(vm_a), "limit": 1000}).json()["results"]
    assert {row["resource_id"] for row in rows} == {str(vm_a)}
    assert (rows[0]["offering_name"], rows[0]["unit_hours"]) == (small.name, "1.000000")
    everything = a["member"].get("/api/v1/usage/", {"limit": 1000}).json()["results"]
    assert str(vm_b) not in {row["resource_id"] for row in everything}
    asked_for_b = a["admin"].get("/api/v1/usage/", {"project": str(b["project"].pk)}).json()
    assert asked_for_b["count"] == 0
    window = a["member"].get(
        "/api/v1/usage/", {"since": "2020-01-02T05:00:00Z", "until": "2020-01-02T07:00:00Z"}
    )
    assert {row["hour"] for row in window.json()["results"]} >= {
        "2020-01-02T05:00:00Z",
        "2020-01-02T06:00:00Z",
    }


def test_an_invoice_comes_as_json_with_its_lines_and_as_csv(tenants, small):
    priced()
    invoice = finalized_invoice(tenants["a"]["project"], small, month=PAST)
    client = tenants["a"]["member"]

    body = client.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert (body["number"], body["state"], body["total"], body["period"]) == (
        "INV-00000001",
        "finalized",
        "1.00",
        PAST,
    )
    assert body["domain_id"] == str(tenants["a"]["domain"].pk)
    assert [(line["unit_price"], line["unit_hours"], line["amount"]) for line in body["lines"]] == [
        ("0.1000000000", "10.000000", "1.00")
    ]
    listed = client.get("/api/v1/invoices/", {"period": PAST}).json()
    assert [row["id"] for row in listed["results"]] == [str(invoice.pk)]

    response = client.get(f"/api/v1/invoices/{invoice.pk}/csv/")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["document", "state", "project"]
    assert rows[1][-4:-2] == ["10.000000", "1.00"]
    assert (rows[-1][5], rows[-1][12]) == ("TOTAL", "1.00")


def test_a_resource_name_a_spreadsheet_would_run_is_quoted_in_the_csv(tenants, small):
    priced()
    project, vm, name = tenants["a"]["project"], uuid.uuid4(), '=HYPERLINK("http://evil.test")'
    u.instance_running(f"{PAST}-03 00:00:00", vm, project, small, name=name)
    u.instance_stopped(f"{PAST}-03 05:00:00", vm, project, name=name)
    invoice = draft_invoice(project, small, month=PAST)

    text = tenants["a"]["member"].get(f"/api/v1/invoices/{invoice.pk}/csv/").content.decode()
    assert "'=HYPERLINK" in text
    assert not any(field.startswith("=") for row in csv.reader(io.StringIO(text)) for field in row)


def test_only_the_cloud_finalizes_and_credits(tenants, small, admin_api):
    priced()
    draft = draft_invoice(tenants["a"]["project"], small, month=PAST)
    admin = tenants["a"]["admin"]

    assert admin.post(f"/api/v1/invoices/{draft.pk}/finalize/").status_code == 403
    finalized = admin_api.post(f"/api/v1/invoices/{draft.pk}/finalize/")
    assert (finalized.status_code, finalized.json()["number"]) == (200, "INV-00000001")
    credit = {"amount": "0.25", "reason": "sorry"}
    assert admin.post(f"/api/v1/invoices/{draft.pk}/credit-notes/", credit, format="json").status_code == 403
    note = admin_api.post(f"/api/v1/invoices/{draft.pk}/credit-notes/", credit, format="json")
    assert (note.status_code, note.json()["total"]) == (201, "-0.25")
    too_much = admin_api.post(
        f"/api/v1/invoices/{draft.pk}/credit-notes/", {"amount": "5", "reason": "x"}, format="json"
    )
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (409, "credit_exceeds_invoice")


def test_each_domain_admin_sees_the_totals_of_its_own_subtree(tenants, small, admin_api):
    priced()
    for name, hours in (("a", 10), ("b", 20)):
        draft_invoice(tenants[name]["project"], small, hours=hours, month=PAST)

    rows = tenants["a"]["admin"].get("/api/v1/invoices/domains/", {"period": PAST}).json()["results"]
    assert [(r["domain_name"], r["draft_total"], r["projects"]) for r in rows] == [("domain-a", "1.00", 1)]
    everyone = {
        r["domain_name"]: r["draft_total"]
        for r in admin_api.get("/api/v1/invoices/domains/", {"period": PAST}).json()["results"]
    }
    assert (everyone["ROOT"], everyone["domain-b"]) == ("3.00", "2.00")
    assert tenants["a"]["member"].get("/api/v1/invoices/domains/", {"period": PAST}).json()["results"] == []


@pytest.mark.parametrize("label", ["2020-13", "20-01", "2020-1", "next month", "2020-01-01"])
def test_a_period_that_is_not_a_month_is_a_clear_400(tenants, label):
    response = tenants["a"]["member"].get("/api/v1/invoices/", {"period": label})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "bad_period")


def test_tenants_see_the_default_prices_and_their_own_domains_not_others(tenants, admin_api):
    default = card(name="public prices")
    own, other = card(domain=tenants["a"]["domain"]), card(domain=tenants["b"]["domain"])

    for client in (tenants["a"]["member"], tenants["a"]["admin"]):
        seen = {row["id"] for row in client.get("/api/v1/rate-cards/").json()["results"]}
        assert seen == {str(default.pk), str(own.pk)}
    assert tenants["a"]["member"].get(f"/api/v1/rate-cards/{other.pk}/").status_code == 404
    assert len(admin_api.get("/api/v1/rate-cards/").json()["results"]) == 3


def test_the_cloud_admin_prices_through_the_api_and_a_tenant_cannot(tenants, admin_api):
    created = admin_api.post("/api/v1/rate-cards/", {"name": "default", "currency": "chf"}, format="json")
    assert (created.status_code, created.json()["currency"]) == (201, "CHF")
    url = f"/api/v1/rate-cards/{created.json()['id']}/rates/"
    good = {"resource_type": "network", "price": "0.0025", "effective_from": "2026-12-01T00:00:00+01:00"}
    added = admin_api.post(url, good, format="json")
    assert (added.status_code, added.json()["effective_from"]) == (201, "2026-11-30T23:00:00Z")
    assert admin_api.post(url, good, format="json").json()["error"]["code"] == "already_exists"
    assert tenants["a"]["admin"].post(url, {**good, "price": "0"}, format="json").status_code == 403
    assert (
        tenants["a"]["admin"]
        .post("/api/v1/rate-cards/", {"name": "mine", "currency": "EUR"}, format="json")
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"effective_from": "2026-12-01T00:30:00Z"}, "bad_effective_from"),
        ({"price": "0.00000000001"}, "validation_error"),
        ({"price": "-1"}, "validation_error"),
        ({"resource_type": "volume"}, "validation_error"),
        (
            {"resource_type": "image", "offering_id": "00000000-0000-4000-8000-000000000000"},
            "offering_not_priced",
        ),
        ({"offering_id": "00000000-0000-4000-8000-000000000000"}, "offering_not_found"),
    ],
)
def test_a_price_that_makes_no_sense_is_refused_with_its_code(admin_api, root, change, code):
    default = card()
    body = {"resource_type": "instance", "price": "0.01", "effective_from": "2026-12-01T00:00:00Z", **change}
    response = admin_api.post(f"/api/v1/rate-cards/{default.pk}/rates/", body, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)


def test_a_price_a_finalized_invoice_charged_cannot_be_withdrawn_but_a_future_one_can(
    tenants, small, admin_api
):
    default = priced()
    finalized_invoice(tenants["a"]["project"], small, month=PAST)
    charged = default.rates.get()
    future = price(default, e.INSTANCE, "0.2", start="2030-01-01 00:00")

    refused = admin_api.delete(f"/api/v1/rate-cards/{default.pk}/rates/{charged.pk}/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "rate_invoiced")
    assert admin_api.delete(f"/api/v1/rate-cards/{default.pk}/rates/{future.pk}/").status_code == 204


def test_budgets_through_the_api(tenants, small):
    a = tenants["a"]
    priced()
    created = a["admin"].post(
        "/api/v1/budgets/",
        {"project_id": str(a["project"].pk), "amount": "1.00", "currency": "EUR"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["notify_emails"] == ["admin-a@example.test"]
    budget_id = created.json()["id"]
    assert (
        a["member"]
        .post(
            "/api/v1/budgets/",
            {"project_id": str(a["project"].pk), "amount": "1", "currency": "USD"},
            format="json",
        )
        .status_code
        == 403
    )
    other_project = {"project_id": str(tenants["b"]["project"].pk), "amount": "1.00", "currency": "EUR"}
    assert a["admin"].post("/api/v1/budgets/", other_project, format="json").status_code == 404
    both = {
        "project_id": str(a["project"].pk),
        "domain_id": str(a["domain"].pk),
        "amount": "1",
        "currency": "EUR",
    }
    assert a["admin"].post("/api/v1/budgets/", both, format="json").json()["error"]["code"] == "budget_scope"

    draft_invoice(a["project"], small, hours=9, month=PAST)
    assert len(mail.outbox) == 0  # a budget counts its current period only
    seen = a["member"].get(f"/api/v1/budgets/{budget_id}/").json()
    assert (seen["amount"], seen["spend"]) == ("1.00", "0.00")
    assert (
        a["admin"].patch(f"/api/v1/budgets/{budget_id}/", {"amount": "2.50"}, format="json").json()["amount"]
        == "2.50"
    )
    assert a["admin"].delete(f"/api/v1/budgets/{budget_id}/").status_code == 204


def test_another_tenants_invoices_are_not_listed(tenants, small):
    priced()
    draft_invoice(tenants["b"]["project"], small, month=PAST)
    for who in ("member", "admin"):
        assert tenants["a"][who].get("/api/v1/invoices/").json()["count"] == 0
    assert Invoice.objects.count() == 1


def test_an_offering_price_names_its_offering(admin_api, root):
    offering = OfferingFactory(name="m9.huge")
    default = card()
    body = {
        "resource_type": "instance",
        "offering_id": str(offering.pk),
        "price": "1",
        "effective_from": "2026-12-01T00:00:00Z",
    }
    assert (
        admin_api.post(f"/api/v1/rate-cards/{default.pk}/rates/", body, format="json").json()["offering_name"]
        == "m9.huge"
    )


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/api/v1/usage/", {"since": "yesterday"}),
        ("/api/v1/usage/", {"project": "not-an-id"}),
        ("/api/v1/usage/", {"resource_id": "1"}),
        ("/api/v1/invoices/", {"project": "x"}),
        ("/api/v1/invoices/domains/", {"period": "9999-12"}),
    ],
)
def test_filters_that_make_no_sense_are_a_400_not_an_error(tenants, url, query):
    response = tenants["a"]["member"].get(url, query)
    assert response.status_code == 400
    assert "error" in response.json()
