"""A project through a month: launches, stops, deletes, images, snapshots, addresses, networks and a
price change in the middle, invoiced to the cent against amounts worked out by hand below."""

import uuid
from decimal import Decimal

import time_machine

from apps.billing.models import Invoice
from apps.billing.periods import period_of
from apps.billing.services.cycle import run_cycle
from apps.billing.services.invoices import close_period
from apps.compute.tests.factories import OfferingFactory
from apps.metering import events as e

from . import usage as u
from .prices import SYSTEM, card, price
from .usage import at

GIB = 1024**3


def record_the_month(project, small, large):
    """Every event of the month, each recorded at its time as the integration records it."""
    tiny = OfferingFactory(name="m1.tiny", vcpus=1, ram_mb=512)
    vm1, vm2, vm3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    u.instance_running("2026-11-01 08:00:00", vm1, project, small)
    u.instance_stopped("2026-11-10 08:00:00", vm1, project)
    u.instance_running("2026-11-12 12:00:00", vm1, project, small)
    u.instance_deleted("2026-11-20 12:00:30", vm1, project)
    u.instance_running("2026-11-05 00:00:00", vm2, project, large)
    u.instance_running("2026-11-28 00:00:00", vm3, project, tiny)
    u.instance_stopped("2026-11-28 10:00:00", vm3, project)
    image, snapshot = uuid.uuid4(), uuid.uuid4()
    u.stored("2026-11-02 00:00:00", e.IMAGE, image, project, 5 * GIB + 1)
    u.storage_deleted("2026-11-22 00:00:00", e.IMAGE, image, project)
    u.stored("2026-11-15 06:00:00", e.SNAPSHOT, snapshot, project, 2 * GIB)
    fip1, fip2, fip3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    u.floating_ip("2026-11-03 10:00:00", e.ALLOCATED, fip1, project)
    u.floating_ip("2026-11-03 22:30:00", e.RELEASED, fip1, project)
    u.floating_ip("2026-11-25 00:00:00", e.ALLOCATED, fip2, project)
    u.floating_ip("2026-11-26 09:00:00", e.ALLOCATED, fip3, project)
    u.floating_ip("2026-11-26 10:00:00", e.RELEASED, fip3, project)
    net = uuid.uuid4()
    u.network("2026-11-01 00:00:00", e.CREATED, net, project)
    u.network("2026-11-30 00:00:00", e.DELETED, net, project)
    return {"vm1": vm1, "vm2": vm2, "vm3": vm3, "image": image, "snapshot": snapshot, "net": net}


def price_the_month(small, large):
    default = card()
    price(default, e.INSTANCE, "0.0100")
    price(default, e.INSTANCE, "0.0200", offering=small)
    price(default, e.INSTANCE, "0.0300", offering=small, start="2026-11-16 00:00")
    price(default, e.INSTANCE, "0.0800", offering=large)
    price(default, e.IMAGE, "0.0001")
    price(default, e.SNAPSHOT, "0.0002")
    price(default, e.FLOATING_IP, "0.0050")
    price(default, e.NETWORK, "0.0010")
    return default


def amounts(invoice):
    return sorted((line.resource_type, line.offering_name, line.amount) for line in invoice.lines.all())


def test_a_month_of_usage_is_invoiced_to_the_cent(project, small, large):
    price_the_month(small, large)
    record_the_month(project, small, large)

    run_cycle(at("2026-12-01 00:30"))

    invoice = Invoice.objects.get(project_id=project.pk)
    assert amounts(invoice) == sorted(
        [
            # vm1 at m1.small: 216 h + 84 h before the 16th at 0.02, then 108 h 30 s at 0.03
            ("instance", "m1.small", Decimal("6.00")),
            ("instance", "m1.small", Decimal("3.24")),
            # vm2 at m1.large: the 5th to the end of the month, 624 h at 0.08
            ("instance", "m1.large", Decimal("49.92")),
            # vm3 has no price of its own: the card's instance price, 10 h at 0.01
            ("instance", "m1.tiny", Decimal("0.10")),
            # 5 GiB and a byte count as 6 GiB, 480 h at 0.0001: 0.288
            ("image", "", Decimal("0.29")),
            # 2 GiB, 378 h at 0.0002: 0.1512
            ("snapshot", "", Decimal("0.15")),
            # 12.5 h at 0.005 = 0.0625; 144 h = 0.72; 1 h = 0.005, half a cent, rounds up
            ("floating_ip", "", Decimal("0.06")),
            ("floating_ip", "", Decimal("0.72")),
            ("floating_ip", "", Decimal("0.01")),
            # 696 h at 0.001
            ("network", "", Decimal("0.70")),
        ]
    )
    assert invoice.total == Decimal("61.19")
    assert sum(line.amount for line in invoice.lines.all()) == invoice.total
    assert (invoice.currency, invoice.state, invoice.project_name) == ("EUR", Invoice.DRAFT, project.name)


def test_the_price_change_splits_the_instance_hours_exactly_at_its_hour(project, small, large):
    price_the_month(small, large)
    ids = record_the_month(project, small, large)

    run_cycle(at("2026-12-01 00:30"))

    lines = (
        Invoice.objects.get(project_id=project.pk).lines.filter(resource_id=ids["vm1"]).order_by("first_hour")
    )
    assert [(line.unit_price, line.unit_seconds) for line in lines] == [
        (Decimal("0.0200000000"), 300 * 3600),
        (Decimal("0.0300000000"), 108 * 3600 + 30),
    ]
    assert lines[0].last_hour < at("2026-11-16 00:00") <= lines[1].first_hour


def test_a_draft_shows_the_usage_to_date_and_the_period_closes_into_a_numbered_invoice(project, small, large):
    price_the_month(small, large)
    record_the_month(project, small, large)

    run_cycle(at("2026-11-10 00:05"))
    draft = Invoice.objects.get(project_id=project.pk)
    # To the 10th 00:00: vm1 208 h at 0.02 (4.16), vm2 120 h at 0.08 (9.60), the image 192 h x 6 GiB
    # (0.1152), fip1 (0.0625), the network 216 h (0.216).
    assert draft.total == Decimal("14.16")

    with time_machine.travel(at("2026-12-01 02:00"), tick=False):
        run_cycle()
        assert close_period(SYSTEM, period_of(draft.period_start)) == 1
    final = Invoice.objects.get(pk=draft.pk)
    assert (final.state, final.number, final.total) == (Invoice.FINALIZED, "INV-00000001", Decimal("61.19"))
