"""Bench: SQL statements the controller executes for one instance create, from the API call to running.

It builds a compute stack (bench/compute_stack.py): a throwaway PostgreSQL
cluster with pg_stat_statements, a domain chain of depth 5 ending in the
measured project, a real controller process and one real agent on libvirt's
test:///default, whose network driver works in a namespace of the stack's own.
Each create has one NIC on a flat-DHCP network shared with the project, in the
project's default security group; the agent's host is the network's DHCP server
and pulls its network state (a signed GET) before it plugs the NIC in. For each
size (default 10, then 10,000) the cloud grows to `size` full hosts in the
agents' zone with `size` active instances on them, each with a NIC there too.
WARM_UPS creates warm the path, the agent's image cache and the database
connection of each of the controller's HTTP threads (a new connection sets its
time zone: one statement); then for each measured create the statistics are
reset and counted in two phases, over every connection of the controller:

- request: the POST /api/v1/instances/ (authentication, permission, quota,
  placement, the port, the job, and the signed task sent after commit);
- agent reports: what the controller runs for the agent's requests (its network
  state, its task reports) until the instance is active and its job succeeded.

The split is read when the POST's answer arrives, so the agent's first report
may already be counted in the request phase; the total is exact.

Counted are the statements the controller sends. PostgreSQL's own
foreign-key checks (`SELECT 1 FROM ONLY … FOR KEY SHARE OF x`, which
pg_stat_statements lists as top-level statements) are counted apart. The bench
watches the instance as another database role, whose statements are left out,
and the agent heartbeats once an hour so that none falls inside a measurement.
The last line printed is one JSON object with the figures.

    .venv/bin/python bench/sql_per_create.py [--sizes 10,10000] [--creates 3] [--depth 5]
"""

import argparse
import json
import re
import time

import psycopg2
from api_auth import DATABASE
from compute_stack import ComputeStack

# With one NIC on a flat-DHCP network and the project's default security group (issue 14).
TARGET_STATEMENTS = 30
OBSERVER = "bench_observer"
RUNNING_TIMEOUT_SECONDS = 120
TOP = 12
WARM_UPS = 8
# The stored text keeps the first call's constant: `SELECT 1` when bulk inserts came first.
FOREIGN_KEY_CHECK = re.compile(r'^SELECT (\$\d+|1) FROM ONLY "public"\."\w+" x WHERE .* FOR KEY SHARE OF x$')


class Statements:
    """pg_stat_statements of the controller's role in the bench database."""

    def __init__(self, cluster):
        self.monitor = cluster.connect(DATABASE)
        with self.monitor.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cursor.execute(f"CREATE ROLE {OBSERVER} LOGIN SUPERUSER")
        self.observer = psycopg2.connect(host=cluster.host, port=cluster.port, user=OBSERVER, dbname=DATABASE)
        self.observer.autocommit = True

    def reset(self):
        with self.monitor.cursor() as cursor:
            cursor.execute("SELECT pg_stat_statements_reset()")

    def counts(self):
        """{normalized query: calls} of the controller's role (the monitor's own reset left out)."""
        with self.monitor.cursor() as cursor:
            cursor.execute(
                "SELECT s.query, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
                " JOIN pg_roles r ON r.oid = s.userid WHERE d.datname = %s AND r.rolname <> %s"
                " AND s.toplevel AND s.query NOT LIKE %s",
                [DATABASE, OBSERVER, "%pg_stat_statements%"],
            )
            return {" ".join(query.split()): calls for query, calls in cursor.fetchall()}

    def wait_running(self, instance_id, job_id):
        deadline = time.monotonic() + RUNNING_TIMEOUT_SECONDS
        with self.observer.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT i.vm_state, i.task_state, i.fault_message, j.state FROM compute_instance i,"
                    " jobs_job j WHERE i.id = %s AND j.id = %s",
                    [instance_id, job_id],
                )
                vm_state, task_state, fault, job_state = cursor.fetchone()
                if task_state is None and job_state in ("succeeded", "failed"):
                    if vm_state != "active":
                        raise SystemExit(f"the instance ended {vm_state}: {fault}")
                    return
                time.sleep(0.02)
        raise SystemExit(f"instance {instance_id} was not running after {RUNNING_TIMEOUT_SECONDS} s")


def minus(after, before):
    return {
        query: calls - before.get(query, 0) for query, calls in after.items() if calls > before.get(query, 0)
    }


def one_create(stack, statements, name):
    """{phase: {query: calls}} of one create, foreign-key checks in a phase of their own."""
    statements.reset()
    instance_id, job_id = stack.create(name)
    requested = statements.counts()
    statements.wait_running(instance_id, job_id)
    phases = {"request": requested, "agent reports": minus(statements.counts(), requested)}
    checks = {}
    for queries in phases.values():
        for query in [q for q in queries if FOREIGN_KEY_CHECK.match(q)]:
            checks[query] = checks.get(query, 0) + queries.pop(query)
    return phases, checks


def total(queries):
    return sum(queries.values())


def measure(stack, statements, size, args):
    stack.fill_to(size)
    print(f"--- {size} more hosts and instances, domain depth {args.depth}", flush=True)
    warm_ups = [one_create(stack, statements, f"bench-warm-up-{size}-{n}")[0] for n in range(WARM_UPS)]
    measured = [one_create(stack, statements, f"bench-{size}-{n}") for n in range(args.creates)]
    runs = [phases for phases, _ in measured]
    checks = [total(fk) for _, fk in measured]
    phases = {phase: [total(run[phase]) for run in runs] for phase in runs[0]}
    totals = [sum(total(queries) for queries in run.values()) for run in runs]
    last = runs[-1]
    print(
        f"warm-up creates: {[sum(total(queries) for queries in run.values()) for run in warm_ups]} statements"
    )
    for phase, counts in phases.items():
        print(f"{phase:>16}: {counts}")
    print(f"{'total':>16}: {totals}")
    print(f"{'+ FK checks':>16}: {checks} (run by PostgreSQL for the inserts, not sent)")
    for phase, queries in last.items():
        print(f"top statements, {phase}:")
        for query, calls in sorted(queries.items(), key=lambda item: (-item[1], item[0]))[:TOP]:
            print(f"  {calls:3d}  {query[:200]}")
    return {
        "statements": max(totals),
        "per_create": totals,
        "phases": {phase: max(counts) for phase, counts in phases.items()},
        "foreign_key_checks": max(checks),
        "first_warm_up_create": sum(total(queries) for queries in warm_ups[0].values()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,10000")
    parser.add_argument("--creates", type=int, default=3)
    parser.add_argument("--depth", type=int, default=5)
    args = parser.parse_args()
    settings = {"heartbeat_seconds": 3600}
    with ComputeStack(depth=args.depth, agents=1, agent_settings=settings, network=True) as stack:
        statements = Statements(stack.cluster)
        figures = {size: measure(stack, statements, int(size), args) for size in args.sizes.split(",")}
    counts = [f["statements"] for f in figures.values()]
    print(
        json.dumps(
            {
                "bench": "sql_per_create",
                "domain_depth": args.depth,
                "sizes": figures,
                "target_statements": TARGET_STATEMENTS,
                "target_met": max(counts) <= TARGET_STATEMENTS and len(set(counts)) == 1,
            }
        )
    )


if __name__ == "__main__":
    main()
