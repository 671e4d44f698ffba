"""Bench: time per placement (filters, weighers, the capacity claim) with 10, 1,000 and 10,000 hosts.

It starts a throwaway PostgreSQL cluster (bench/pgcluster.py; the system cluster
is untouched), creates the database `cloudmgr_bench_scheduler` and migrates it.
For each size it bulk-inserts that many hosts over four zones, with mixed
capacity, current usage, host tags, isolated hosts, a few hosts down, disabled
or in maintenance, and management addresses in 10.0.0.0/8, then ANALYZEs.

A placement is `apps.compute.scheduler.placement.place()` with the configured
filters (all the built-in ones) and weighers, inside a transaction: the
weighed query, the conditional UPDATE that claims the host's capacity and the
allocation row. Each placement's transaction is rolled back, so every one sees
the same hosts. Measured per size:

- `plain`: a 2 vCPU / 4 GiB / 40 GiB request, RAM weigher (the default);
- `constrained`: the same in one zone, with a host tag, image architecture and
  hypervisor type, a different_host hint naming 20 hosts and CIDR affinity;
- `two_weighers`: plain with RAM and chance weighers, which adds the scaling of
  each weigher over all candidates (window functions).

The last line printed is one JSON object with the figures (milliseconds).

    .venv/bin/python bench/scheduler_scale.py [--sizes 10,1000,10000] [--placements 300]
"""

import argparse
import ipaddress
import json
import os
import random
import secrets
import statistics
import time
import uuid
from pathlib import Path

from pgcluster import Cluster

REPO = Path(__file__).resolve().parent.parent
DATABASE = "cloudmgr_bench_scheduler"
ZONES = ("zone-a", "zone-b", "zone-c", "zone-d")
TAGS = ("ssd", "gpu", "nvme", "10g")
WARM_UP = 30
TARGET_MEDIAN_MS_AT_10000 = 20.0


def populate(size, zones, rng):
    """`size` hosts, replacing the previous ones; returns them."""
    from django.db import connection
    from django.utils import timezone

    from apps.infrastructure.capacity import refresh_limits
    from apps.infrastructure.models import Allocation, Host

    Allocation.objects.all().delete()
    Host.objects.all().delete()
    now = timezone.now()
    hosts = []
    for n in range(size):
        ram_mb = rng.choice((131072, 262144, 524288))
        cpus = rng.choice((32, 48, 64))
        disk_gb = rng.choice((2000, 4000, 8000))
        roll = rng.random()
        hosts.append(
            Host(
                name=f"node-{n:05d}",
                zone=zones[n % len(zones)],
                state=Host.DOWN if roll < 0.02 else Host.UP,
                enabled=not 0.02 <= roll < 0.03,
                maintenance=0.03 <= roll < 0.04,
                isolated=0.04 <= roll < 0.06,
                tags=sorted(rng.sample(TAGS, rng.randint(0, 2))),
                management_ip=str(ipaddress.ip_address("10.0.0.0") + n + 10),
                cpus=cpus,
                ram_mb=ram_mb,
                disk_gb=disk_gb,
                hypervisor_type="qemu",
                hypervisor_version="7.2.0",
                arch="x86_64" if n % 10 else "aarch64",
                protocol_version=1,
                last_heartbeat_at=now,
                reserved_host_memory_mb=4096,
                vcpus_used=rng.randint(0, cpus * 8),
                ram_mb_used=rng.randint(0, int(ram_mb * 1.2)),
                disk_gb_used=rng.randint(0, disk_gb // 2),
            )
        )
    Host.objects.bulk_create(hosts, batch_size=2000)
    refresh_limits()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE infrastructure_host")
    return hosts


def requests(hosts, zones, rng):
    """Makers of the measured requests, each a fresh PlacementRequest per call."""
    from apps.compute.scheduler.request import ImageTraits, PlacementRequest
    from apps.infrastructure.capacity import Amounts

    amounts = Amounts(vcpus=2, ram_mb=4096, disk_gb=40)
    avoided = frozenset(h.pk for h in rng.sample(hosts, min(20, len(hosts))))

    def plain():
        return PlacementRequest(consumer_id=uuid.uuid4(), amounts=amounts)

    def constrained():
        return PlacementRequest(
            consumer_id=uuid.uuid4(),
            amounts=amounts,
            zone_id=zones[0].pk,
            host_tags=("ssd",),
            image=ImageTraits(architecture="x86_64", hypervisor_type="kvm"),
            different_host=avoided,
            near_network="10.0.0.0/8",
        )

    return {"plain": plain, "constrained": constrained}


def time_placements(make_request, count):
    """Milliseconds per placement; each placement's transaction is rolled back."""
    from django.db import transaction

    from apps.compute.scheduler.placement import NoValidHost, place

    timings, refused = [], 0
    for index in range(WARM_UP + count):
        started = time.perf_counter()
        with transaction.atomic():
            try:
                place(make_request())
            except NoValidHost:
                refused += 1
            transaction.set_rollback(True)
        if index >= WARM_UP:
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "max_ms": round(timings[-1], 2),
        "refused": refused,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--placements", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    with Cluster() as cluster:
        print(f"PostgreSQL cluster on port {cluster.port}; creating {DATABASE}", flush=True)
        cluster.create_database(DATABASE)
        cluster.setup_django(
            DATABASE,
            os.environ.get("CLOUDMGR_SECRET_KEY") or secrets.token_urlsafe(40),
            fast_password_hasher=False,
        )
        from django.conf import settings
        from django.core.management import call_command

        from apps.infrastructure.models import Zone

        call_command("migrate", verbosity=0)
        zones = [Zone.objects.create(name=name) for name in ZONES]
        rng = random.Random(7)
        figures = {}
        for size in sizes:
            hosts = populate(size, zones, rng)
            made = requests(hosts, zones, rng)
            result = {name: time_placements(make, args.placements) for name, make in made.items()}
            weighers = settings.CLOUDMGR_SCHEDULER_WEIGHERS
            settings.CLOUDMGR_SCHEDULER_WEIGHERS = ["ram", "chance"]
            result["two_weighers"] = time_placements(made["plain"], args.placements)
            settings.CLOUDMGR_SCHEDULER_WEIGHERS = weighers
            figures[str(size)] = result
            for name, numbers in result.items():
                print(
                    f"{size:>6} hosts  {name:<12} median {numbers['median_ms']:7.2f} ms"
                    f"  p95 {numbers['p95_ms']:7.2f} ms  max {numbers['max_ms']:7.2f} ms"
                    f"  refused {numbers['refused']}",
                    flush=True,
                )
        largest = figures.get("10000", {}).get("plain", {}).get("median_ms")
        summary = {
            "bench": "scheduler_scale",
            "placements_per_case": args.placements,
            "filters": settings.CLOUDMGR_SCHEDULER_FILTERS,
            "sizes": figures,
            "target_median_ms_at_10000": TARGET_MEDIAN_MS_AT_10000,
            "target_met": largest is not None and largest < TARGET_MEDIAN_MS_AT_10000,
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
