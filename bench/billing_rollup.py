"""Bench: a month of usage for 10,000 instances, rolled up and invoiced, checked to the cent.

It starts a throwaway PostgreSQL cluster (bench/pgcluster.py), migrates and
bootstraps it, and makes DOMAINS domains with projects of INSTANCES_PER_PROJECT
instances each. Every instance is launched on the first day of November 2026,
then changes state (stop, start) at least --changes times a day at random
seconds, and a tenth of them are deleted in the last week; two offerings are
used. The default rate card prices each offering per instance-hour, and
changes both prices at 00:00 on the 16th.

The events are loaded with COPY into empty tables, as the recorder would have
written them (apps/metering/recorder.py: same columns, the project's domain
path). Then, timed:

- `rollup_seconds`: `roll_up()` from nothing to the end of the month
  (hourly records for every instance, chunks of CLOUDMGR_BILLING_ROLLUP_CHUNK_HOURS);
- `invoice_seconds`: drafting every project's invoice for the month.

The reference is computed from the generated events alone with plain Decimal,
calling no billing code: running intervals truncated to whole seconds, cut at
the price change, one line per instance and price, each rounded to the cent
half up. `invoice_cents_off` is the sum over projects of |invoice - reference|
in cents (it must be 0), `projects_off` the projects whose total differs.
`rollup_cpu_seconds` is the CPU time the rollup took in PostgreSQL and in this
process, a figure other work on the machine slows less than the wall time;
the load average is printed beside them.

    .venv/bin/python bench/billing_rollup.py [--instances 10000] [--changes 4] [--seed 1]
"""

import argparse
import io
import json
import os
import random
import secrets
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from api_auth import migrate_and_bootstrap
from common import cpu_seconds, server_settings
from pgcluster import Cluster

DATABASE = "cloudmgr_bench_billing"
DOMAINS = 10
INSTANCES_PER_PROJECT = 10
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC)
MONTH_END = datetime(2026, 12, 1, tzinfo=UTC)
PRICE_CHANGE = datetime(2026, 11, 16, tzinfo=UTC)
# (offering name, price per hour before the change, after it)
OFFERINGS = [("m1.small", "0.0416", "0.0450"), ("m1.large", "0.1664", "0.1500")]
TARGET_ROLLUP_SECONDS = 60


def build_tenants(root, instances):
    """DOMAINS domains under ROOT, projects of INSTANCES_PER_PROJECT instances; returns [(project, path)]."""
    from apps.identity.models import Domain, Project

    domains = []
    for number in range(DOMAINS):
        domain_id = uuid.uuid4()
        domains.append(
            Domain(
                id=domain_id,
                name=f"tenant-{number}",
                parent=root,
                path=f"{root.path}{domain_id.hex}/",
                depth=1,
            )
        )
    Domain.objects.bulk_create(domains)
    projects = [
        Project(name=f"project-{number}", domain=domains[number % DOMAINS])
        for number in range(-(-instances // INSTANCES_PER_PROJECT))
    ]
    Project.objects.bulk_create(projects, batch_size=2000)
    return [(project.pk, project.domain.path) for project in projects]


def build_prices():
    """The offerings and the default card: each offering's price, changing on the 16th."""
    from apps.billing.models import Rate, RateCard
    from apps.compute.models import ServiceOffering

    card = RateCard.objects.create(name="default", currency="EUR")
    offerings = []
    for name, before, after in OFFERINGS:
        offering = ServiceOffering.objects.create(name=name, vcpus=1, ram_mb=1024, root_disk_gb=10)
        for price, start in ((before, MONTH_START), (after, PRICE_CHANGE)):
            Rate.objects.create(
                card=card,
                resource_type="instance",
                offering_id=offering.pk,
                offering_name=name,
                price=Decimal(price),
                effective_from=start,
            )
        offerings.append((offering.pk, name, Decimal(before), Decimal(after)))
    return offerings


def generate_events(tenants, offerings, instances, changes, rng):
    """[(time, instance id, project id, path, event, offering)] of the month, in time order per instance."""
    events = []
    month_seconds = int((MONTH_END - MONTH_START).total_seconds())
    for number in range(instances):
        project_id, path = tenants[number // INSTANCES_PER_PROJECT]
        offering = offerings[number % len(offerings)]
        instance = uuid.uuid4()
        moments = sorted(
            MONTH_START + timedelta(days=day, seconds=rng.uniform(0, 86400))
            for day in range(30)
            for _ in range(changes + rng.randint(0, 1))
        )
        deleted_at = None
        if rng.random() < 0.1:
            deleted_at = MONTH_START + timedelta(
                seconds=rng.uniform(month_seconds - 7 * 86400, month_seconds)
            )
            moments = [m for m in moments if m < deleted_at]
        for index, moment in enumerate(moments):
            kind = "running" if index % 2 == 0 else "stopped"
            events.append((moment, instance, project_id, path, kind, offering))
        if deleted_at is not None:
            events.append((deleted_at, instance, project_id, path, "deleted", offering))
    return events


def load_events(cluster, events):
    """COPY the events, in the order they happened, into metering_usageevent and its outbox
    metering_pendingevent, with the columns the recorder writes."""
    buffer = io.StringIO()
    for moment, instance, project_id, path, kind, (offering_id, offering_name, _, _) in sorted(
        events, key=lambda event: event[0]
    ):
        offering = f"{offering_id}\t{offering_name}" if kind == "running" else "\\N\t"
        buffer.write(
            f"{moment.isoformat()}\tinstance\t{kind}\t{instance}\tvm-{str(instance)[:8]}\t"
            f"{project_id}\t{path}\t{offering}\t\\N\n"
        )
    buffer.seek(0)
    connection = cluster.connect(DATABASE)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY metering_usageevent (occurred_at, resource_type, event_type, resource_id, resource_name,"
            " project_id, domain_path, offering_id, offering_name, size_bytes) FROM STDIN",
            buffer,
        )
        cursor.execute(
            "INSERT INTO metering_pendingevent (event_id, occurred_at, resource_type, resource_id)"
            " SELECT id, occurred_at, resource_type, resource_id FROM metering_usageevent"
        )
        cursor.execute("VACUUM ANALYZE")
    connection.close()


def reference_totals(events):
    """{project id: total} from the raw events alone: whole seconds, half-up cents per line."""
    cent = Decimal("0.01")
    by_instance = defaultdict(list)
    for event in events:
        by_instance[event[1]].append(event)
    usage = defaultdict(int)
    for timeline in by_instance.values():
        timeline.sort(key=lambda e: e[0])
        for (moment, _, project_id, _, kind, offering), following in zip(
            timeline, [*timeline[1:], None], strict=True
        ):
            if kind != "running":
                continue
            start = moment.replace(microsecond=0)
            end = following[0].replace(microsecond=0) if following else MONTH_END
            start, end = max(start, MONTH_START), min(end, MONTH_END)
            for low, high, price in (
                (MONTH_START, PRICE_CHANGE, offering[2]),
                (PRICE_CHANGE, MONTH_END, offering[3]),
            ):
                seconds = (min(end, high) - max(start, low)).total_seconds()
                if seconds > 0:
                    usage[(project_id, timeline[0][1], price)] += int(seconds)
    totals = defaultdict(Decimal)
    for (project_id, _, price), seconds in usage.items():
        totals[project_id] += (price * seconds / 3600).quantize(cent, rounding=ROUND_HALF_UP)
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=4, help="state changes per instance per day, at least")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with Cluster() as cluster:
        print(f"PostgreSQL cluster on port {cluster.port}; creating {DATABASE}", flush=True)
        cluster.create_database(DATABASE)
        cluster.setup_django(DATABASE, secrets.token_urlsafe(40))
        root = migrate_and_bootstrap()
        tenants = build_tenants(root, args.instances)
        offerings = build_prices()
        events = generate_events(tenants, offerings, args.instances, args.changes, rng)
        load_events(cluster, events)
        print(
            f"{len(events)} events of {args.instances} instances in {len(tenants)} projects loaded",
            flush=True,
        )

        from django.db import connection

        from apps.billing.models import Invoice, UsageRecord
        from apps.billing.periods import period_of
        from apps.billing.rollup import roll_up
        from apps.billing.services.invoices import refresh_drafts

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        cpu_before = cpu_seconds(backend) + cpu_seconds("self")
        started = time.monotonic()
        outcome = roll_up(MONTH_END)
        rollup_seconds = time.monotonic() - started
        rollup_cpu_seconds = cpu_seconds(backend) + cpu_seconds("self") - cpu_before
        print(f"{outcome} in {rollup_seconds:.1f} s", flush=True)
        started = time.monotonic()
        drafted = refresh_drafts(period_of(MONTH_START))
        invoice_seconds = time.monotonic() - started
        print(f"{drafted} invoices drafted in {invoice_seconds:.1f} s", flush=True)

        reference = reference_totals(events)
        invoiced = dict(Invoice.objects.values_list("project_id", "total"))
        cents_off = sum(
            abs(invoiced.get(p, Decimal(0)) - reference.get(p, Decimal(0)))
            for p in reference.keys() | invoiced.keys()
        )
        projects_off = sum(
            1 for p in reference.keys() | invoiced.keys() if invoiced.get(p) != reference.get(p)
        )
        records = UsageRecord.objects.count()
        settings_shown = server_settings("shared_buffers", "work_mem", "max_wal_size")
        connection.close()
    report = {
        "instances": args.instances,
        "projects": len(tenants),
        "events": len(events),
        "state_changes_per_instance_per_day": round(len(events) / args.instances / 30, 2),
        "hourly_records": records,
        "rollup_chunks": outcome.chunks,
        "rollup_seconds": round(rollup_seconds, 1),
        "rollup_cpu_seconds": round(rollup_cpu_seconds, 1),
        "target_rollup_seconds": TARGET_ROLLUP_SECONDS,
        "invoice_seconds": round(invoice_seconds, 1),
        "invoices": drafted,
        "invoiced_total": str(sum(invoiced.values(), Decimal(0))),
        "reference_total": str(sum(reference.values(), Decimal(0))),
        "invoice_cents_off": int(cents_off * 100),
        "projects_off": projects_off,
        "postgresql": settings_shown,
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(report))
    if cents_off:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
