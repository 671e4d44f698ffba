"""Bench: IP allocation through two controllers, each allocation one `POST /api/v1/ports/`.

It starts a throwaway PostgreSQL cluster (bench/pgcluster.py; the system
cluster is untouched), migrates and bootstraps the database
`cloudmgr_bench_ipam`, and makes a project whose member allocates, a zone and a
flat network shared with the project with one /16 subnet (65,533 pool
addresses). Half the pool is then given at random to filler ports in bulk SQL,
so the allocator works on a half-full /16, and the table is analysed. Two real
controllers (`manage.py runcontroller`, apps/core/tests/controllers.py) serve the API.

1. Throughput: `--clients` threads (16), each with its own keep-alive
   connection to one of the two controllers, POST `--allocations` ports
   (default 3,000) as fast as the answers come. `allocations_per_second` is
   the ports made over the wall time; `duplicates` counts addresses and MACs
   given more than once, in the answers and in the database (must be 0).
   While it runs, a sampler records what the busy database sessions wait on:
   `share_waiting_on_quota_lock` is the share of them queued on a quota usage
   row (the project's `ports` limit is lifted, so its claims only share the
   rows: it should be 0), the other locks beside it; the machine's load average
   is printed too, since the rate depends on what else the 2 cores run.
2. Exhaustion: a second flat network with a /26 (61 pool addresses); the same
   clients POST `--exhaustion-requests` ports (default 300) on it at once.
   `exhaustion_duplicates` must be 0, `exhaustion_created` 61, and every
   other answer a `409 ip_addresses_exhausted` naming that network
   (`exhaustion_refused_409`); `exhaustion_other` counts anything else.

The exit status is 1 when a correctness figure is wrong. The last line printed
is one JSON object with the figures (the throughput target is 300 per second).

    .venv/bin/python bench/ip_allocation.py [--allocations 3000] [--clients 16] [--exhaustion-requests 300]
"""

import argparse
import json
import os
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from api_auth import Client
from common import cpu_seconds, p95
from pgcluster import Cluster

from apps.core.tests.controllers import ControllerProcess

DATABASE = "cloudmgr_bench_ipam"
USERNAME = "bench-ipam"
TARGET_PER_SECOND = 300
SLASH_26_POOL = 61

_FILL_SQL = """
WITH fillers AS (
    INSERT INTO networks_port (id, name, network_id, project_id, mac_address, device_owner, hostname,
                               delete_with_instance, created_at)
    SELECT gen_random_uuid(), 'filler', %(network)s, %(project)s,
           ('02ff00' || lpad(to_hex(g), 6, '0'))::macaddr, '', '', false, now()
      FROM generate_series(1, %(count)s) AS g
    RETURNING id
), numbered_ports AS (
    SELECT id, row_number() OVER () AS n FROM fillers
), numbered_addresses AS (
    SELECT id, row_number() OVER (ORDER BY random()) AS n
      FROM networks_subnetaddress WHERE subnet_id = %(subnet)s
)
UPDATE networks_subnetaddress a SET port_id = p.id
  FROM numbered_addresses s JOIN numbered_ports p USING (n)
 WHERE a.id = s.id
"""


def prepare(password):
    """The cloud the bench allocates in; returns (project id, /16 network, /26 network, half-full count)."""
    from django.core.management import call_command
    from django.db import connection, connections

    from apps.core import policy
    from apps.core.actor import Actor
    from apps.identity.models import Role, RoleAssignment
    from apps.identity.services.bootstrap import bootstrap
    from apps.identity.services.projects import create_project
    from apps.identity.services.users import create_user
    from apps.infrastructure.services.zones import create_zone
    from apps.networks.services.networks import create_network
    from apps.networks.services.subnets import create_subnet
    from apps.quotas.services import set_limit

    call_command("migrate", verbosity=0)
    root, _ = bootstrap()
    actor = Actor.system("bench")
    project = create_project(actor, domain=root, name="bench-ipam")
    user = create_user(actor, domain=root, username=USERNAME, password=password)
    RoleAssignment.objects.create(
        user=user, role=Role.objects.get(name=policy.PROJECT_MEMBER), project=project
    )
    set_limit(actor, project, "ports", -1)
    zone = create_zone(actor, name="bench-zone")
    networks = []
    for name, physical_network, cidr in (
        ("big", "physnet1", "10.128.0.0/16"),
        ("small", "physnet2", "10.200.0.0/26"),
    ):
        network = create_network(
            actor,
            name=name,
            zone=zone,
            network_type="flat",
            physical_network=physical_network,
            shared_with=[project],
        )
        create_subnet(actor, network, cidr=cidr)
        networks.append(network)
    big = networks[0]
    subnet = big.subnets.get()
    half = subnet.addresses.count() // 2
    with connection.cursor() as cursor:
        cursor.execute(
            _FILL_SQL, {"network": big.pk, "project": project.pk, "count": half, "subnet": subnet.pk}
        )
        cursor.execute("VACUUM ANALYZE networks_subnetaddress")
        cursor.execute("VACUUM ANALYZE networks_port")
    connections.close_all()
    return str(project.pk), str(big.pk), str(networks[1].pk), half


def allocate(controllers, token, network_id, count, clients):
    """POST `count` ports from `clients` threads; returns [(status, body, milliseconds)] and the wall time."""
    results, lock = [], threading.Lock()
    numbers = iter(range(count))
    body = json.dumps({"network_id": network_id}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def client_loop(index):
        client = Client(controllers[index % len(controllers)].port)
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            status, data, ms = client.request("POST", "/api/v1/ports/", headers, body)
            with lock:
                results.append((status, json.loads(data or b"{}"), ms))

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


class LockSampler:
    """Samples, every 50 ms, what the bench database's busy sessions wait on: the share waiting for a row
    lock of quota usage (claims on a limited row serialise there), and for any other lock."""

    _SQL = """
        SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND query LIKE '%%quotas_quotausage%%'),
               count(*) FILTER (WHERE wait_event_type = 'Lock' AND query NOT LIKE '%%quotas_quotausage%%'),
               count(*)
          FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()
    """

    def __init__(self, cluster):
        self.connection = cluster.connect("postgres")
        self.samples = []
        self.running = True
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        with self.connection.cursor() as cursor:
            while self.running:
                cursor.execute(self._SQL, [DATABASE])
                self.samples.append(cursor.fetchone())
                time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()
        self.connection.close()
        active = sum(s[2] for s in self.samples) or 1
        return {
            "share_waiting_on_quota_lock": round(sum(s[0] for s in self.samples) / active, 2),
            "share_waiting_on_other_locks": round(sum(s[1] for s in self.samples) / active, 2),
        }


def duplicates(created):
    """How many addresses and MACs of these answers were given more than once."""
    addresses = Counter(f["ip_address"] for body in created for f in body["fixed_ips"])
    macs = Counter(body["mac_address"] for body in created)
    return sum(n - 1 for n in addresses.values()) + sum(n - 1 for n in macs.values())


def database_duplicates():
    """The same count as the database sees it, over every port and address row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) - count(DISTINCT (subnet_id, address)) FROM networks_subnetaddress)"
            " + (SELECT count(*) - count(DISTINCT mac_address) FROM networks_port)"
            " + (SELECT count(*) - count(DISTINCT port_id) FROM networks_subnetaddress"
            "     WHERE port_id IS NOT NULL AND family(address) = 4 AND NOT EXISTS ("
            "       SELECT 1 FROM networks_port p WHERE p.id = port_id AND p.name = 'filler'))"
        )
        return cursor.fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--allocations", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--exhaustion-requests", type=int, default=300)
    parser.add_argument("--http-threads", type=int, default=8, help="per controller")
    args = parser.parse_args()
    secret_key, password = secrets.token_urlsafe(40), secrets.token_urlsafe(16)
    with Cluster() as cluster, tempfile.TemporaryDirectory(prefix="cloudmgr-bench-ipam-") as scratch:
        cluster.create_database(DATABASE)
        cluster.setup_django(DATABASE, secret_key)
        project_id, big, small, half_full = prepare(password)
        print(f"PostgreSQL on port {cluster.port}; /16 with {half_full} addresses given", flush=True)
        settings = {
            "CLOUDMGR_DATABASE_URL": cluster.url(DATABASE),
            "CLOUDMGR_SECRET_KEY": secret_key,
            "CLOUDMGR_JOB_WORKERS": "0",
            "CLOUDMGR_PERIODIC_TICK_SECONDS": "3600",
            "CLOUDMGR_HTTP_THREADS": str(args.http_threads),
        }
        controllers = [
            ControllerProcess(
                f"bench-{n}", log_path=Path(scratch) / f"controller-{n}.log", environment=settings
            )
            for n in range(2)
        ]
        try:
            for controller in controllers:
                controller.wait_ready()
            token = controllers[0].login(USERNAME, password, project_id=project_id)
            allocate(controllers, token, big, 2 * args.clients, args.clients)  # warm-up: connections, caches
            cpu_before = sum(cpu_seconds(c.pid) for c in controllers)
            sampler = LockSampler(cluster)
            results, seconds = allocate(controllers, token, big, args.allocations, args.clients)
            waits = sampler.stop()
            cpu_ms = (sum(cpu_seconds(c.pid) for c in controllers) - cpu_before) * 1000
            created = [body for status, body, _ in results if status == 201]
            latencies = [ms for status, _, ms in results if status == 201]
            exhausted, _ = allocate(controllers, token, small, args.exhaustion_requests, args.clients)
        finally:
            for controller in controllers:
                controller.stop()
        small_created = [body for status, body, _ in exhausted if status == 201]
        refused = Counter(
            (
                status,
                body.get("error", {}).get("code"),
                body.get("error", {}).get("details", {}).get("network_id"),
            )
            for status, body, _ in exhausted
            if status != 201
        )
        figures = {
            "allocations_per_second": round(len(created) / seconds, 1),
            "duplicates": duplicates(created) + database_duplicates(),
            "allocations": len(created),
            "failed_allocations": len(results) - len(created),
            "clients": args.clients,
            "controllers": len(controllers),
            "half_full_addresses_given": half_full,
            "latency_median_ms": round(statistics.median(latencies), 1),
            "latency_p95_ms": round(p95(latencies), 1),
            "controller_cpu_ms_per_allocation": round(cpu_ms / max(len(created), 1), 2),
            **waits,
            "load_average_1min": os.getloadavg()[0],
            "exhaustion_requests": len(exhausted),
            "exhaustion_created": len(small_created),
            "exhaustion_duplicates": duplicates(small_created),
            "exhaustion_refused_409": refused.pop((409, "ip_addresses_exhausted", small), 0),
            "exhaustion_other": sum(refused.values()),
            "target_allocations_per_second": TARGET_PER_SECOND,
        }
    correct = (
        figures["duplicates"] == 0
        and figures["failed_allocations"] == 0
        and figures["exhaustion_duplicates"] == 0
        and figures["exhaustion_created"] == SLASH_26_POOL
        and figures["exhaustion_refused_409"] == figures["exhaustion_requests"] - SLASH_26_POOL
        and figures["exhaustion_other"] == 0
    )
    print(json.dumps(figures))
    raise SystemExit(0 if correct else 1)


if __name__ == "__main__":
    main()
