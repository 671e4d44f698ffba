"""Invoices in a given state, made the way they are in production: usage, a cycle, a closed period."""

import uuid
from datetime import timedelta

import time_machine

from apps.billing.models import Invoice
from apps.billing.periods import period_of
from apps.billing.services.cycle import run_cycle
from apps.billing.services.invoices import close_period
from apps.metering import events as e

from . import usage as u
from .prices import SYSTEM, card, price
from .usage import at

MONTH = "2026-11"


def priced(currency="EUR"):
    """The default card: 0.10 an instance-hour, since 2020."""
    default = card(currency)
    price(default, e.INSTANCE, "0.1000", start="2020-01-01 00:00")
    return default


def closing_time(month=MONTH):
    """Two hours after the month: over (by the default delay of an hour) and rolled up once a cycle runs."""
    return period_of(at(f"{month}-01 00:00")).end + timedelta(hours=2)


def usage_of(project, offering, hours=10, day=f"{MONTH}-02"):
    """An instance of `project` running `hours` hours (0.10 each: 1.00 for 10 h)."""
    vm = uuid.uuid4()
    u.instance_running(f"{day} 00:00:00", vm, project, offering)
    u.instance_stopped(f"{day} {hours:02d}:00:00", vm, project)
    return vm


def draft_invoice(project, offering, hours=10, month=MONTH):
    """A draft of `month` for the project, the month over and rolled up: ready to finalize."""
    usage_of(project, offering, hours, day=f"{month}-02")
    run_cycle(closing_time(month))
    period = period_of(at(f"{month}-01 00:00"))
    return Invoice.objects.get(project_id=project.pk, kind=Invoice.INVOICE, period_start=period.start)


def finalized_invoice(project, offering, hours=10, month=MONTH):
    invoice = draft_invoice(project, offering, hours, month)
    with time_machine.travel(closing_time(month), tick=False):
        close_period(SYSTEM, period_of(invoice.period_start))
    return Invoice.objects.get(pk=invoice.pk)
