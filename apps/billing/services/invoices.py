"""Invoices: drafted from usage, finalized once a period is over, corrected only by credit notes.

Drafts are rebuilt from the hourly usage whenever it changes (the periodic
rollup does it for the projects it touched), so a draft always shows the
usage to date at the prices in force. Finalizing numbers an invoice and
freezes it; from then on the database refuses any change to it or its lines.
A correction is a credit note: a finalized document of negative lines tied to
the invoice, never more in total than the invoice.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.tree import PLATFORM, Target
from apps.identity.models import Project
from apps.identity.services.common import require
from apps.jobs.periodic_runner import advisory_key

from .. import rollup
from ..models import BillingState, Invoice, InvoiceCounter, InvoiceLine
from ..money import parse_amount
from ..periods import period_of
from ..pricing import priced_lines

log = logging.getLogger(__name__)

_LOCK = advisory_key("billing.invoices")
NUMBER_PREFIX = {Invoice.INVOICE: "INV-", Invoice.CREDIT_NOTE: "CN-"}


def invoice_target(invoice):
    return Target(invoice.domain_path, invoice.project_id)


def _lock_invoices(cursor):
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])


def refresh_drafts(period, project_ids=None):
    """Draft the period's invoices again from its usage, for these projects (all when None).

    Returns the number of draft invoices written. Finalized invoices are left as they are; one
    whose usage changed afterwards (an event that arrived after the period was closed) is logged.
    """
    lines = defaultdict(list)
    for line in priced_lines(period, project_ids):
        lines[line.invoice_key].append(line)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_invoices(cursor)
        existing = Invoice.objects.filter(kind=Invoice.INVOICE, period_start=period.start)
        if project_ids is not None:
            existing = existing.filter(project_id__in=project_ids)
        by_key = {(i.project_id, i.domain_path, i.currency): i for i in existing}
        for key, invoice in by_key.items():
            if invoice.is_finalized and sum(line.amount for line in lines.get(key, ())) != invoice.total:
                log.warning("usage of finalized invoice %s changed after it was finalized", invoice.number)
        drafts = {key: i for key, i in by_key.items() if not i.is_finalized}
        InvoiceLine.objects.filter(invoice__in=drafts.values()).delete()
        Invoice.objects.filter(pk__in=[i.pk for key, i in drafts.items() if key not in lines]).delete()
        names = dict(Project.objects.filter(pk__in={key[0] for key in lines}).values_list("pk", "name"))
        written = []
        for key, priced in lines.items():
            if key in by_key and key not in drafts:
                continue
            invoice = drafts.get(key) or Invoice(
                project_id=key[0], domain_path=key[1], currency=key[2], period_start=period.start
            )
            invoice.period_end = period.end
            invoice.project_name = names.get(key[0], invoice.project_name or "(deleted project)")
            invoice.total = sum(line.amount for line in priced)
            invoice.updated_at = timezone.now()
            written.append((invoice, priced))
        _save_drafts(written)
    return len(written)


def _save_drafts(written):
    new = [invoice for invoice, _ in written if invoice._state.adding]
    old = [invoice for invoice, _ in written if not invoice._state.adding]
    Invoice.objects.bulk_create(new)
    Invoice.objects.bulk_update(old, ["period_end", "project_name", "total", "updated_at"], batch_size=1000)
    InvoiceLine.objects.bulk_create(
        [_line(invoice, line) for invoice, priced in written for line in priced], batch_size=5000
    )


def _line(invoice, line):
    what = line.offering_name or line.resource_type
    return InvoiceLine(
        invoice=invoice,
        description=f"{line.resource_type} {line.resource_name or line.resource_id} ({what})"[:255],
        resource_type=line.resource_type,
        resource_id=line.resource_id,
        resource_name=line.resource_name,
        offering_name=line.offering_name,
        rate_id=line.rate.pk,
        unit_price=line.rate.price,
        unit_seconds=line.unit_seconds,
        amount=line.amount,
        first_hour=line.first_hour,
        last_hour=line.last_hour,
    )


_PRICES_CHANGED = """
INSERT INTO billing_billingstate (id, prices_version, drafted_prices_version) VALUES (1, 1, 0)
    ON CONFLICT (id) DO UPDATE SET prices_version = billing_billingstate.prices_version + 1
"""


def prices_changed():
    """Called in the transaction of a change of prices: the next cycle drafts the open invoices again."""
    with connection.cursor() as cursor:
        cursor.execute(_PRICES_CHANGED)


def refresh_for_new_prices(outcome, now=None):
    """If prices changed since the drafts were made: draft again every draft invoice, the current
    period's and those of the periods a rollup changed; returns how many, or None (nothing changed)."""
    state = BillingState.objects.filter(pk=1).values_list("prices_version", "drafted_prices_version").first()
    if state is None or state[0] == state[1]:
        return None
    starts = set(
        Invoice.objects.filter(state=Invoice.DRAFT).values_list("period_start", flat=True).distinct()
    )
    periods = {period_of(now or timezone.now()), *_touched_periods(outcome)}
    periods |= {period_of(start) for start in starts}
    drafted = sum(refresh_drafts(period) for period in periods)
    # A change made meanwhile keeps the versions apart: the next cycle drafts again.
    BillingState.objects.filter(pk=1, drafted_prices_version__lt=state[0]).update(
        drafted_prices_version=state[0]
    )
    return drafted


def _touched_periods(outcome):
    """{period: [project ids]} whose usage a rollup changed, from the earliest period it changed."""
    by_period = defaultdict(list)
    if outcome.rolled_until is None:
        return by_period
    last = period_of(outcome.rolled_until - timedelta(microseconds=1))
    for project_id, hour in outcome.touched.items():
        period = period_of(hour)
        while period.start <= last.start:
            by_period[period].append(project_id)
            period = period.next()
    return by_period


def refresh_touched(outcome):
    """Draft again the invoices of the projects a rollup changed."""
    return sum(refresh_drafts(period, projects) for period, projects in _touched_periods(outcome).items())


def check_closable(period):
    """A period may be closed once it is over by the configured delay and rolled up to its end."""
    now = timezone.now()
    if now < period.end + timedelta(seconds=settings.CLOUDMGR_BILLING_CLOSE_AFTER_SECONDS):
        raise Conflict(
            f"Period {period.label} is not over yet (it may be closed "
            f"{settings.CLOUDMGR_BILLING_CLOSE_AFTER_SECONDS} s after its end).",
            code="period_not_over",
        )
    reached = rollup.rolled_until()
    if reached is None or reached < period.end:
        raise Conflict(
            f"Usage is not rolled up to the end of {period.label} yet: run rollupusage.",
            code="period_not_rolled_up",
        )


def close_period(actor, period):
    """Draft the period's invoices a last time and finalize them all; returns how many were finalized."""
    action = "billing.invoice.finalize"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "You may not close billing periods.")
        check_closable(period)
        refresh_drafts(period)
        drafts = Invoice.objects.filter(kind=Invoice.INVOICE, period_start=period.start, state=Invoice.DRAFT)
        finalized = _finalize(list(drafts.values_list("pk", flat=True)), Invoice.INVOICE)
        op.details = {"period": period.label, "finalized": finalized}
    return finalized


def finalize_invoice(actor, invoice):
    """Finalize one invoice of a closed period, drafted again first from the latest usage."""
    action = "billing.invoice.finalize"
    with audited(actor, action, target=invoice_target(invoice), obj=invoice):
        require(actor, action, invoice_target(invoice), f"You may not finalize invoice {invoice}.")
        if invoice.kind != Invoice.INVOICE or invoice.is_finalized:
            raise Conflict(f"Invoice {invoice} is already finalized.", code="invoice_finalized")
        period = period_of(invoice.period_start)
        check_closable(period)
        refresh_drafts(period, [invoice.project_id])
        if not _finalize([invoice.pk], Invoice.INVOICE):
            raise Conflict(f"Invoice {invoice} has nothing left to bill.", code="invoice_empty")
    return Invoice.objects.get(pk=invoice.pk)


def _finalize(invoice_ids, kind):
    """Number and freeze these drafts, in one statement, numbers following on without gaps."""
    if not invoice_ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_invoices(cursor)
        counter, _ = InvoiceCounter.objects.select_for_update().get_or_create(kind=kind)
        cursor.execute(
            """
            WITH numbered AS (
                SELECT id, row_number() OVER (ORDER BY domain_path, project_name, id) AS n
                  FROM billing_invoice WHERE id = ANY(%s::uuid[]) AND state = 'draft'
            )
            UPDATE billing_invoice i
               SET state = 'finalized', finalized_at = %s, updated_at = %s,
                   number = %s || lpad((%s + numbered.n)::text, 8, '0')
              FROM numbered
             WHERE i.id = numbered.id
            """,
            [
                [str(pk) for pk in invoice_ids],
                timezone.now(),
                timezone.now(),
                NUMBER_PREFIX[kind],
                counter.last,
            ],
        )
        finalized = cursor.rowcount
        InvoiceCounter.objects.filter(kind=kind).update(last=counter.last + finalized)
    return finalized


def issue_credit_note(actor, invoice, *, amount, reason):
    """Credit part (or all) of a finalized invoice; returns the finalized credit note."""
    action = "billing.invoice.credit"
    target = invoice_target(invoice)
    with audited(actor, action, target=target, obj=invoice) as op:
        require(actor, action, target, f"You may not credit invoice {invoice}.")
        try:
            amount = parse_amount(amount, "The amount")
        except ValueError as error:
            raise ValidationFailed(f"{error}.", code="bad_amount") from error
        reason = str(reason or "").strip()
        if not reason:
            raise ValidationFailed("Say why the invoice is credited.", code="reason_required")
        original = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if original.kind != Invoice.INVOICE or not original.is_finalized:
            raise Conflict(
                f"Only a finalized invoice can be credited, not {invoice}.", code="invoice_not_final"
            )
        credited = -sum(original.credit_notes.values_list("total", flat=True))
        if credited + amount > original.total:
            raise Conflict(
                f"Invoice {original} totals {original.total} {original.currency}, {credited} of it already"
                f" credited: {amount} more is too much.",
                code="credit_exceeds_invoice",
            )
        note = Invoice.objects.create(
            kind=Invoice.CREDIT_NOTE,
            credited_invoice=original,
            project_id=original.project_id,
            project_name=original.project_name,
            domain_path=original.domain_path,
            period_start=original.period_start,
            period_end=original.period_end,
            currency=original.currency,
            total=-amount,
            reason=reason[:255],
        )
        InvoiceLine.objects.create(
            invoice=note, description=f"Credit on {original}: {reason}"[:255], amount=-amount
        )
        _finalize([note.pk], Invoice.CREDIT_NOTE)
        note.refresh_from_db()
        op.details = {"credit_note": note.number, "amount": str(amount), "reason": reason[:255]}
    return note
