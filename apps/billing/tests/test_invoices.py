"""Finalizing, numbering and crediting invoices; a finalized invoice never changes, not even in SQL."""

from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from apps.billing.models import Invoice, InvoiceLine
from apps.billing.periods import period_of
from apps.billing.rollup import roll_up
from apps.billing.services.cycle import run_cycle
from apps.billing.services.invoices import close_period, finalize_invoice, issue_credit_note
from apps.core.actor import Actor
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.policy import Principal
from apps.identity.tests.factories import ProjectFactory

from .invoicing import closing_time, draft_invoice, finalized_invoice, priced, usage_of
from .prices import SYSTEM
from .usage import at


@pytest.fixture(autouse=True)
def _default_card(db):
    priced()


def refused(sql, *params):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_finalized_invoice_and_its_lines_cannot_be_changed_even_by_sql(project, small):
    invoice = finalized_invoice(project, small)
    line = invoice.lines.get()

    refused("UPDATE billing_invoice SET total = 0 WHERE id = %s", invoice.pk)
    refused("UPDATE billing_invoice SET state = 'draft' WHERE id = %s", invoice.pk)
    refused("DELETE FROM billing_invoice WHERE id = %s", invoice.pk)
    refused("UPDATE billing_invoiceline SET amount = 0 WHERE id = %s", line.pk)
    refused("DELETE FROM billing_invoiceline WHERE id = %s", line.pk)
    refused(
        "INSERT INTO billing_invoiceline (invoice_id, description, resource_type, resource_name,"
        " offering_name, unit_seconds, amount) VALUES (%s, 'extra', '', '', '', 0, 5)",
        invoice.pk,
    )
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("1.00")
    assert invoice.lines.get().amount == Decimal("1.00")


def test_the_database_refuses_to_finalize_an_invoice_whose_total_is_not_the_sum_of_its_lines(project, small):
    invoice = draft_invoice(project, small)

    refused(
        "UPDATE billing_invoice SET state = 'finalized', number = 'X-1', finalized_at = now(), total = 2"
        " WHERE id = %s",
        invoice.pk,
    )


def test_closing_a_period_numbers_its_invoices_without_gaps_in_order(project, small, root):
    others = [ProjectFactory(domain=project.domain, name=f"p{n}") for n in range(3)]
    for each in [project, *others]:
        usage_of(each, small)
    with time_machine.travel(closing_time(), tick=False):
        run_cycle()
        assert close_period(SYSTEM, period_of(at("2026-11-15 00:00"))) == 4
        assert close_period(SYSTEM, period_of(at("2026-11-15 00:00"))) == 0

    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == ["INV-00000001", "INV-00000002", "INV-00000003", "INV-00000004"]


def test_a_period_that_is_not_over_or_not_rolled_up_cannot_be_closed(project, small, settings):
    usage_of(project, small)
    november = period_of(at("2026-11-15 00:00"))
    with time_machine.travel(at("2026-11-30 23:00"), tick=False), pytest.raises(Conflict) as early:
        close_period(SYSTEM, november)
    with time_machine.travel(at("2026-12-03 00:00"), tick=False), pytest.raises(Conflict) as unrolled:
        close_period(SYSTEM, november)

    assert (early.value.code, unrolled.value.code) == ("period_not_over", "period_not_rolled_up")
    assert not Invoice.objects.filter(state=Invoice.FINALIZED).exists()


def test_one_invoice_is_finalized_with_the_latest_usage_of_its_period(project, small):
    invoice = draft_invoice(project, small)
    # Usage that arrives late is taken into the invoice when it is finalized, if rolled up by then.
    usage_of(project, small, hours=5, day="2026-11-20")
    with time_machine.travel(closing_time(), tick=False):
        roll_up()
        final = finalize_invoice(SYSTEM, invoice)

    assert (final.state, final.total, final.number) == (Invoice.FINALIZED, Decimal("1.50"), "INV-00000001")
    with time_machine.travel(closing_time(), tick=False), pytest.raises(Conflict) as again:
        finalize_invoice(SYSTEM, final)
    assert again.value.code == "invoice_finalized"


def test_a_credit_note_corrects_a_finalized_invoice_up_to_its_total(project, small):
    invoice = finalized_invoice(project, small)

    note = issue_credit_note(SYSTEM, invoice, amount="0.40", reason="Outage on the 2nd")
    second = issue_credit_note(SYSTEM, invoice, amount=Decimal("0.60"), reason="Goodwill")
    with pytest.raises(Conflict) as too_much:
        issue_credit_note(SYSTEM, invoice, amount="0.01", reason="One more")

    assert too_much.value.code == "credit_exceeds_invoice"
    assert (note.kind, note.state, note.number, note.total) == (
        Invoice.CREDIT_NOTE,
        Invoice.FINALIZED,
        "CN-00000001",
        Decimal("-0.40"),
    )
    assert second.number == "CN-00000002"
    assert list(note.lines.values_list("amount", flat=True)) == [Decimal("-0.40")]
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("1.00")
    refused("UPDATE billing_invoice SET total = 0 WHERE id = %s", note.pk)


@pytest.mark.parametrize(
    ("amount", "code"), [("0", "bad_amount"), ("-1", "bad_amount"), ("0.001", "bad_amount")]
)
def test_a_credit_of_nothing_or_of_fractions_of_a_cent_is_refused(project, small, amount, code):
    invoice = finalized_invoice(project, small)
    with pytest.raises(ValidationFailed) as refusal:
        issue_credit_note(SYSTEM, invoice, amount=amount, reason="why")
    assert refusal.value.code == code


def test_a_draft_cannot_be_credited_and_only_the_cloud_can_credit(project, small, member):
    draft = draft_invoice(project, small)
    with pytest.raises(Conflict):
        issue_credit_note(SYSTEM, draft, amount="0.10", reason="too early")
    tenant = Actor(Principal(member))
    with pytest.raises(PermissionDenied):
        issue_credit_note(tenant, draft, amount="0.10", reason="a gift to myself")
    with time_machine.travel(closing_time(), tick=False), pytest.raises(PermissionDenied):
        finalize_invoice(tenant, draft)
    assert not InvoiceLine.objects.filter(amount__lt=0).exists()
