"""Bench: instances per second from the API call to running, with two agents on test:///default.

It builds a compute stack (bench/compute_stack.py): a throwaway PostgreSQL
cluster, a real controller process (`manage.py runcontroller`), two real agent
processes (`python -m agent run`, libvirt's test:///default, their own
queues) and Redis as the broker. A warm-up create on each agent fills its image
cache. Then `--clients` threads, each on its own keep-alive connection, POST
`--instances` creates as fast as the controller answers, and the bench waits
until every instance is active with its spawn job succeeded (watched from the
database as another role). Figures:

- instances per second: created instances / (first POST to last instance running);
- latency of one create from its POST to running (median, p95), and of the POST alone;
- the controller's share: its CPU time (user + system, /proc) over the wall time,
  next to each agent's (with the qemu-img runs it waited for), and the
  controller's CPU milliseconds per instance.

The last line printed is one JSON object with the figures.

    .venv/bin/python bench/instances_per_second.py [--instances 60] [--clients 4]
"""

import argparse
import json
import statistics
import threading
import time

from api_auth import Client
from common import cpu_seconds, p95
from compute_stack import ComputeStack
from sql_per_create import Statements

RUNNING_TIMEOUT_SECONDS = 300
AGENTS = 2


def run_creates(stack, count, clients):
    """POST `count` creates from `clients` threads; returns [(instance id, job id, POST start, POST end)]."""
    made, lock = [], threading.Lock()
    numbers = iter(range(count))

    def client_loop():
        client = Client(stack.controller.port)
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            started = time.monotonic()
            instance_id, job_id = stack.create(f"bench-{number}", client=client)
            with lock:
                made.append((instance_id, job_id, started, time.monotonic()))

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return made


def wait_all_running(observer, made):
    """{instance id: monotonic time it was first seen running}; raises if one fails or time runs out."""
    pending = {instance_id: job_id for instance_id, job_id, _, _ in made}
    running_at = {}
    deadline = time.monotonic() + RUNNING_TIMEOUT_SECONDS
    with observer.cursor() as cursor:
        while pending:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"{len(pending)} instances were not running after {RUNNING_TIMEOUT_SECONDS} s"
                )
            cursor.execute(
                "SELECT i.id::text, i.vm_state, i.fault_message, j.state FROM compute_instance i"
                " JOIN jobs_job j ON j.id = ANY(%s::uuid[]) AND j.object_id = i.id::text"
                " WHERE i.id = ANY(%s::uuid[]) AND i.task_state IS NULL",
                [list(pending.values()), list(pending)],
            )
            now = time.monotonic()
            for instance_id, vm_state, fault, job_state in cursor.fetchall():
                if vm_state != "active" or job_state != "succeeded":
                    raise SystemExit(f"instance {instance_id} ended {vm_state} ({job_state}): {fault}")
                running_at[instance_id] = now
                pending.pop(instance_id)
            time.sleep(0.02)
    return running_at


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with ComputeStack(depth=1, agents=AGENTS, agent_settings={"heartbeat_seconds": 10}) as stack:
        observer = Statements(stack.cluster).observer
        wait_all_running(observer, run_creates(stack, AGENTS * 2, 1))
        pids = {"controller": stack.controller.process.pid}
        pids |= {f"agent-{n}": agent.process.pid for n, agent in enumerate(stack.agents)}
        cpu_before = {name: cpu_seconds(pid, children=True) for name, pid in pids.items()}
        started = time.monotonic()
        made = run_creates(stack, args.instances, args.clients)
        running_at = wait_all_running(observer, made)
        wall = max(running_at.values()) - started
        cpu = {name: cpu_seconds(pid, children=True) - cpu_before[name] for name, pid in pids.items()}
        with observer.cursor() as cursor:
            cursor.execute(
                "SELECT h.name, count(*) FROM compute_instance i"
                " JOIN infrastructure_host h ON h.id = i.host_id"
                " WHERE i.id = ANY(%s::uuid[]) GROUP BY h.name",
                [[instance_id for instance_id, *_ in made]],
            )
            placed = dict(cursor.fetchall())
    to_running = [(running_at[i] - post_started) * 1000 for i, _, post_started, _ in made]
    posts = [(post_ended - post_started) * 1000 for _, _, post_started, post_ended in made]
    rate = len(made) / wall
    shares = {name: seconds / wall for name, seconds in cpu.items()}
    print(f"{len(made)} instances with {args.clients} API clients and {AGENTS} agents in {wall:.2f} s")
    print(f"instances per second: {rate:.2f}")
    print(
        f"POST to running: median {statistics.median(to_running):.0f} ms, p95 {p95(to_running):.0f} ms;"
        f" the POST alone: median {statistics.median(posts):.0f} ms, p95 {p95(posts):.0f} ms"
    )
    for name in pids:
        print(f"{name:>10}: {cpu[name]:.2f} CPU s, {shares[name]:.0%} of the wall time")
    print(f"controller CPU per instance: {cpu['controller'] * 1000 / len(made):.1f} ms; placed: {placed}")
    print(
        json.dumps(
            {
                "bench": "instances_per_second",
                "instances": len(made),
                "clients": args.clients,
                "agents": AGENTS,
                "wall_s": round(wall, 3),
                "instances_per_second": round(rate, 2),
                "post_to_running_median_ms": round(statistics.median(to_running), 1),
                "post_to_running_p95_ms": round(p95(to_running), 1),
                "post_median_ms": round(statistics.median(posts), 1),
                "cpu_s": {name: round(seconds, 3) for name, seconds in cpu.items()},
                "cpu_share_of_wall": {name: round(share, 3) for name, share in shares.items()},
                "controller_cpu_ms_per_instance": round(cpu["controller"] * 1000 / len(made), 2),
                "placed": placed,
            }
        )
    )


if __name__ == "__main__":
    main()
