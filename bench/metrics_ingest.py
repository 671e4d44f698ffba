"""Bench: monitoring samples stored per second, and what downsampling keeps of a month.

It starts a throwaway PostgreSQL cluster (bench/pgcluster.py), creates the
database `cloudmgr_bench_metrics`, migrates it, and enrols HOSTS hosts (default
100), each with its own Ed25519 key, and INSTANCES instances on each (default
100). Then:

1. Ingest: a real controller (apps/core/tests/controllers.py) takes signed MetricsReports,
   each one host's report of its instances (100 instances x 8 series + 9 host
   series = 809 samples), sent over keep-alive connections by CLIENTS threads
   cycling through the host keys, sustained for --seconds (default 60).
   `samples_per_second` counts what is stored (rows x series read back from
   the tables, not what was sent); the controller stores one row per subject
   per interval, so each host's reports carry consecutive interval times.
2. Downsampling a month: MONTH_INSTANCES instances (default 100) get a raw
   sample a minute for 30 days, inserted day by day, with the rollups and the
   retention run every 6 hours of the simulated clock (passed to them as `now`).
   `rows_after_month` is what the instance tables hold at the end,
   `rows_without_downsampling` what raw samples alone would hold (one a minute
   for 30 days); `bytes_per_instance_day` the tables' size (indexes included)
   per instance per simulated day, `raw_bytes_per_instance_day` that of one
   day of raw samples before any rollup.
3. Retention's cost: dropping an hour's partition of raw samples of every
   instance against deleting the same rows and vacuuming them away (the
   reason the tables are partitioned).

The last line printed is one JSON object with the figures.

    .venv/bin/python bench/metrics_ingest.py [--hosts 100 --instances 100 --seconds 60 --clients 8]
"""

import argparse
import http.client
import json
import os
import secrets
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import cpu_seconds
from pgcluster import Cluster

from apps.core.tests.controllers import ControllerProcess

DATABASE = "cloudmgr_bench_metrics"
TARGET_SAMPLES_PER_SECOND = 20_000
MONTH_START = datetime(2026, 1, 1, tzinfo=UTC)
MONTH_DAYS = 30
ROLLUP_EVERY = timedelta(hours=6)


def enrol(hosts, instances_per_host):
    """Hosts (up, with fresh keys) and their instances; [(host name, private key, [instance ids])]."""
    from django.utils import timezone

    from agent import signing
    from apps.compute.models import Instance, ServiceOffering
    from apps.identity.models import Domain, Project
    from apps.infrastructure.models import Host, Zone

    zone = Zone.objects.create(name="bench")
    domain = Domain.objects.get(parent__isnull=True)
    project = Project.objects.create(name="bench", domain=domain)
    offering = ServiceOffering.objects.create(name="bench", vcpus=2, ram_mb=2048, root_disk_gb=10)
    now = timezone.now()
    keys = [signing.generate_private_key() for _ in range(hosts)]
    made = Host.objects.bulk_create(
        Host(
            name=f"node-{n:04d}",
            zone=zone,
            state=Host.UP,
            public_key=signing.public_key_b64(key),
            cpus=64,
            ram_mb=262144,
            disk_gb=4000,
            last_heartbeat_at=now,
        )
        for n, key in enumerate(keys)
    )
    fleet = []
    for host, key in zip(made, keys, strict=True):
        batch = Instance.objects.bulk_create(
            Instance(
                name=f"vm-{i}",
                project=project,
                offering=offering,
                host=host,
                zone=zone,
                vm_state="active",
                power_state="running",
                vcpus=2,
                ram_mb=2048,
                root_disk_gb=10,
            )
            for i in range(instances_per_host)
        )
        fleet.append((host.name, key, [str(instance.pk) for instance in batch]))
    return fleet


def report_body(host, instance_ids, sampled_at):
    from agent import protocol

    series = dict.fromkeys(protocol.INSTANCE_SERIES, 0)
    message = protocol.MetricsReport(
        protocol_version=protocol.PROTOCOL_VERSION,
        host=host,
        sampled_at=sampled_at,
        period_seconds=1,
        host_sample=protocol.HostSample(500, 1024, 262144, 1000, 4000000, 10, 10, 10, 10),
        instances=[
            protocol.InstanceSample(instance_id, **{**series, "cpu_millicores": 250, "memory_used_mb": 512})
            for instance_id in instance_ids
        ],
    )
    return protocol.canonical_json(message.to_dict())


class Sender(threading.Thread):
    """Sends its hosts' reports in turn on one keep-alive connection until `stop`."""

    def __init__(self, port, hosts, stop, first_sampled_at):
        super().__init__(daemon=True)
        self.port, self.hosts, self.stop = port, hosts, stop
        self.next_sampled_at = {name: first_sampled_at for name, _, _ in hosts}
        self.sent = self.failed = 0
        self.client_seconds = 0.0

    def run(self):
        from agent import protocol, signing

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            for name, key, instance_ids in self.hosts:
                if self.stop.is_set():
                    break
                started = time.thread_time()
                body = report_body(name, instance_ids, self.next_sampled_at[name])
                self.next_sampled_at[name] += 1
                headers = signing.sign_request(
                    key, host=name, method="POST", path=protocol.METRICS_REPORT_PATH, body=body
                )
                headers["Content-Type"] = "application/json"
                self.client_seconds += time.thread_time() - started
                connection.request("POST", protocol.METRICS_REPORT_PATH, body, headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    self.sent += 1
                else:
                    self.failed += 1
        connection.close()


def stored_samples():
    from django.db import connection

    from apps.monitoring.tables import HOST_RAW, INSTANCE_RAW

    with connection.cursor() as cursor:
        counts = {}
        for table in (INSTANCE_RAW, HOST_RAW):
            cursor.execute(f"SELECT count(*) FROM {table.name}")  # noqa: S608 (a name from tables.py)
            counts[table.name] = cursor.fetchone()[0] * len(table.series)
    return sum(counts.values())


def ingest(cluster, secret_key, fleet, seconds, clients, log_dir):
    from django.utils import timezone

    from apps.monitoring import partitions
    from apps.monitoring.tables import HOST_RAW, INSTANCE_RAW

    # Each report is the next interval of its host: start far enough back that a whole run stays
    # inside the window the controller accepts (signing.REQUEST_MAX_SKEW_SECONDS).
    first_sampled_at = int(time.time()) - 240
    for table in (HOST_RAW, INSTANCE_RAW):
        partitions.ensure(
            table, timezone.now() - timedelta(minutes=10), timezone.now() + timedelta(minutes=20)
        )
    controller = ControllerProcess(
        "bench",
        log_path=Path(log_dir) / "controller.log",
        environment={
            "CLOUDMGR_DATABASE_URL": cluster.url(DATABASE),
            "CLOUDMGR_SECRET_KEY": secret_key,
            "CLOUDMGR_METRICS_INTERVAL_SECONDS": "1",
            "CLOUDMGR_HTTP_THREADS": str(clients),
            "CLOUDMGR_JOB_WORKERS": "1",
            "CLOUDMGR_PERIODIC_TICK_SECONDS": "3600",
        },
    )
    controller.wait_ready()
    try:
        stop = threading.Event()
        groups = [fleet[i::clients] for i in range(clients)]
        senders = [Sender(controller.port, group, stop, first_sampled_at) for group in groups]
        before_samples, before_cpu = stored_samples(), cpu_seconds(controller.pid)
        started = time.monotonic()
        for sender in senders:
            sender.start()
        time.sleep(seconds)
        stop.set()
        for sender in senders:
            sender.join()
        elapsed = time.monotonic() - started
        controller_cpu = cpu_seconds(controller.pid) - before_cpu
    finally:
        controller.stop()
    requests = sum(s.sent for s in senders)
    samples = stored_samples() - before_samples
    return {
        "seconds": round(elapsed, 1),
        "requests": requests,
        "refused_requests": sum(s.failed for s in senders),
        "requests_per_second": round(requests / elapsed, 1),
        "samples_stored": samples,
        "samples_per_second": round(samples / elapsed),
        "controller_cpu_ms_per_request": round(1000 * controller_cpu / max(requests, 1), 2),
        "client_cpu_ms_per_request": round(
            1000 * sum(s.client_seconds for s in senders) / max(requests, 1), 2
        ),
    }


def table_bytes(tables):
    from django.db import connection

    from apps.monitoring import partitions

    with connection.cursor() as cursor:
        total = 0
        for table in tables:
            for start in partitions.existing(table):
                cursor.execute("SELECT pg_total_relation_size(%s)", [partitions.partition_name(table, start)])
                total += cursor.fetchone()[0]
    return total


def insert_raw_day(instance_ids, day, span=timedelta(days=1)):
    """A raw sample a minute of each instance over `span` from `day`."""
    from django.db import connection

    from apps.monitoring import partitions
    from apps.monitoring.tables import INSTANCE_RAW

    partitions.ensure(INSTANCE_RAW, day, day + span)
    values = ", ".join(["(random() * 2000)::int", "512", *["(random() * 1e6)::bigint"] * 2, "10", "10"])
    values += ", " + ", ".join(["(random() * 1e6)::bigint"] * 2)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {INSTANCE_RAW.name} ({', '.join(INSTANCE_RAW.columns)})"  # noqa: S608 (names from tables.py)
            f" SELECT i, t, {values} FROM unnest(%s::uuid[]) i,"
            " generate_series(%s::timestamptz, %s::timestamptz, '1 minute') t",
            [instance_ids, day, day + span - timedelta(minutes=1)],
        )


def reset_samples():
    from django.db import connection

    from apps.monitoring import partitions
    from apps.monitoring.models import RollupProgress
    from apps.monitoring.tables import ALL_TABLES

    for table in ALL_TABLES:
        partitions.drop_before(table, datetime.max.replace(tzinfo=UTC))
    RollupProgress.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def count_rows(tables):
    from django.db import connection

    with connection.cursor() as cursor:
        total = 0
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table.name}")  # noqa: S608 (a name from tables.py)
            total += cursor.fetchone()[0]
    return total


def month(instance_ids):
    from apps.monitoring.retention import apply_retention
    from apps.monitoring.rollup import run_rollups
    from apps.monitoring.tables import INSTANCE_RAW, INSTANCE_TABLES

    reset_samples()
    raw_day_bytes = None
    started = time.monotonic()
    for day in range(MONTH_DAYS):
        moment = MONTH_START + timedelta(days=day)
        apply_retention(now=moment)
        insert_raw_day(instance_ids, moment)
        if raw_day_bytes is None:
            raw_day_bytes = table_bytes([INSTANCE_RAW])
        clock = moment
        while clock < moment + timedelta(days=1):
            clock += ROLLUP_EVERY
            run_rollups(now=clock)
            apply_retention(now=clock)
    kept = count_rows(INSTANCE_TABLES)
    without = len(instance_ids) * MONTH_DAYS * 24 * 60
    return {
        "month_instances": len(instance_ids),
        "month_seconds": round(time.monotonic() - started, 1),
        "rows_after_month": kept,
        "rows_without_downsampling": without,
        "rows_kept_ratio": round(kept / without, 4),
        "bytes_per_instance_day": round(table_bytes(INSTANCE_TABLES) / len(instance_ids) / MONTH_DAYS),
        "raw_bytes_per_instance_day": round(raw_day_bytes / len(instance_ids)),
    }


def retention_cost(instance_ids):
    """Seconds to drop an hour's partition of raw samples, and to delete the same rows and vacuum them
    away (without the VACUUM the deleted rows' space is not reusable: the table would only grow)."""
    from django.db import connection

    from apps.monitoring import partitions
    from apps.monitoring.tables import INSTANCE_RAW

    reset_samples()
    start = MONTH_START
    insert_raw_day(instance_ids, start, span=timedelta(hours=2))
    second_hour = partitions.partition_name(INSTANCE_RAW, int((start + timedelta(hours=1)).timestamp()))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        started = time.monotonic()
        cursor.execute(
            f"DELETE FROM {INSTANCE_RAW.name} WHERE at >= %s AND at < %s",  # noqa: S608 (a name from tables.py)
            [start + timedelta(hours=1), start + timedelta(hours=2)],
        )
        cursor.execute(f"VACUUM {second_hour}")
        deleted = time.monotonic() - started
    started = time.monotonic()
    partitions.drop_before(INSTANCE_RAW, start + timedelta(hours=1))
    dropped = time.monotonic() - started
    return {
        "rows_per_hour": len(instance_ids) * 60,
        "delete_and_vacuum_hour_seconds": round(deleted, 3),
        "drop_hour_seconds": round(dropped, 3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--instances", type=int, default=100, help="instances per host")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--month-instances", type=int, default=100)
    args = parser.parse_args()

    with Cluster() as cluster, tempfile.TemporaryDirectory(prefix="cloudmgr-bench-metrics-") as log_dir:
        print(f"PostgreSQL cluster on port {cluster.port}; creating {DATABASE}", flush=True)
        cluster.create_database(DATABASE)
        secret_key = os.environ.get("CLOUDMGR_SECRET_KEY") or secrets.token_urlsafe(40)
        cluster.setup_django(DATABASE, secret_key)
        from django.core.management import call_command

        from apps.identity.services.bootstrap import bootstrap

        call_command("migrate", verbosity=0)
        bootstrap()
        fleet = enrol(args.hosts, args.instances)
        print(f"{args.hosts} hosts enrolled, {args.hosts * args.instances} instances", flush=True)
        figures = {"ingest": ingest(cluster, secret_key, fleet, args.seconds, args.clients, log_dir)}
        print(f"ingest: {figures['ingest']}", flush=True)
        every = [instance_id for _, _, ids in fleet for instance_id in ids]
        figures["month"] = month(every[: args.month_instances])
        print(f"month: {figures['month']}", flush=True)
        figures["retention"] = retention_cost(every)
        print(f"retention: {figures['retention']}", flush=True)
    ingest_figures, month_figures = figures["ingest"], figures["month"]
    summary = {
        "bench": "metrics_ingest",
        "hosts": args.hosts,
        "instances_per_host": args.instances,
        "samples_per_report": args.instances * 8 + 9,
        **figures,
        "samples_per_second": ingest_figures["samples_per_second"],
        "rows_after_month": month_figures["rows_after_month"],
        "rows_without_downsampling": month_figures["rows_without_downsampling"],
        "bytes_per_instance_day": month_figures["bytes_per_instance_day"],
        "target_samples_per_second": TARGET_SAMPLES_PER_SECOND,
        "target_met": ingest_figures["samples_per_second"] >= TARGET_SAMPLES_PER_SECOND
        and month_figures["rows_after_month"] * 10 <= month_figures["rows_without_downsampling"],
        "run_id": uuid.uuid4().hex[:8],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
