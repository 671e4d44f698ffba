"""Bench: a cold migration's disk transfer against a bare socket copy, and a maintenance drain.

A throwaway PostgreSQL, a real controller process and two real agent processes
on libvirt's test:///default (bench/compute_stack.py), each with its own data
directory, with TLS certificates from a host CA made for the run.

- `cold_migrate_mb_s`: an instance whose root disk holds `--size-mib` MiB of
  random data (written into its qcow2 overlay with qemu-io) is cold-migrated
  from one agent to the other by the production path: the job over both hosts,
  the signed one-time ticket, the transfer over mutual TLS (the source hashing
  as it sends, the destination as it receives and writes past the page cache),
  the checksums compared, inspection, rebase and define. Timed from the
  migration's start (the service call) to its job's success; MiB / seconds.
  The bench then checks that the destination's disk is a separate inode whose
  received bytes had the source file's SHA-256 (the migration's record: what the
  destination verified against the source's), and that its content is the source's (`qemu-img
  compare` against a copy of the source disk taken before the move).
- `bare_copy_mb_s`: the same file sent over a plain loopback socket (read,
  sendall; recv_into, write, fsync) in the same run: once just before the
  migration and once just after, their mean (`bare_copy_runs_mb_s` lists both).
  This machine's disk is shared and its write speed drifts by a factor of two
  within minutes; copies on both sides of the migration compare it with the
  disk it actually had. Target: cold_migrate_mb_s >= 0.6 x bare_copy_mb_s.
- `drain_seconds_per_instance`: `--instances` instances (default 20) on one
  agent; its maintenance is switched on (the service every interface uses)
  and timed until every instance rests on the other agent. Target: <= 2 s.

The last line printed is one JSON object.

    .venv/bin/python bench/migration.py [--size-mib 1024] [--instances 20]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path)
from compute_stack import ComputeStack

from agent.operations import sha256_and_size

MIB = 1024 * 1024
CHUNK = MIB
WAIT_SECONDS = 600
CONCURRENT_MOVES = 4


def host_ca_environment(directory):
    """A CA for this run; the controller (a child process) reads it from the environment."""
    from apps.infrastructure import host_ca

    key, certificate = Path(directory) / "host-ca-key.pem", Path(directory) / "host-ca.pem"
    host_ca.create_files(key, certificate)
    os.environ.update(CLOUDMGR_HOST_CA_KEY_FILE=str(key), CLOUDMGR_HOST_CA_CERT_FILE=str(certificate))


def wait_for(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"waited {WAIT_SECONDS} s for {what}")
        time.sleep(0.05)


def settled(instance_ids):
    from apps.compute.models import Instance

    return Instance.objects.filter(pk__in=instance_ids, task_state__isnull=True).count() == len(instance_ids)


def launch(stack, count, name):
    ids = [stack.create(f"{name}-{n}")[0] for n in range(count)]
    wait_for(lambda: settled(ids), f"{count} spawns")
    return ids


def fill_with_random_data(disk, size_mib, workdir):
    """Write `size_mib` MiB of random bytes into the guest's disk (its overlay), from offset 0."""
    random_file = Path(workdir) / "random.bin"
    with random_file.open("wb") as out:
        for _ in range(size_mib):
            out.write(os.urandom(MIB))
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", f"write -q -s {random_file} 0 {size_mib}M", str(disk)],
        check=True,
        timeout=WAIT_SECONDS,
    )
    random_file.unlink()


def cold_migration(stack, size_mib, bare_copy_into):
    """Migrate an instance with `size_mib` MiB of random data; ``bare_copy_into(path)`` copies its disk
    (a copy taken just before) plainly before and after. Returns the size, the seconds and the checks, and
    the bare copies' MiB/s."""
    from apps.compute.models import Instance, Migration
    from apps.compute.services.moves import migrate
    from apps.jobs.models import Job

    (instance_id,) = launch(stack, 1, "heavy")
    source_agent = next(a for a in stack.agents if a.name == Instance.objects.get(pk=instance_id).host.name)
    destination_agent = next(a for a in stack.agents if a is not source_agent)
    disk = source_agent.data_dir / "instances" / instance_id / "root.qcow2"
    fill_with_random_data(disk, size_mib, stack.workdir)
    before = stack.workdir / "source-before.qcow2"
    shutil.copyfile(disk, before)
    (source_sha256, size), source_inode = sha256_and_size(disk), disk.stat().st_ino
    bare_before = bare_copy_into(before)
    # What was just written leaves the page cache for the disk first: the transfer's writes do not
    # wait behind it (each bare copy starts from the same state).
    os.sync()

    started = time.monotonic()
    job = migrate(stack.system, Instance.objects.get(pk=instance_id))
    wait_for(lambda: Job.objects.get(pk=job.pk).finished, "the migration")
    seconds = time.monotonic() - started

    job.refresh_from_db()
    if job.state != "succeeded":
        raise SystemExit(f"the migration failed: {job.error_code} {job.error_message}")
    handed_over = (job.step_began_at - job.created_at).total_seconds()
    print(
        f"source handed over (stop) in {handed_over:.2f} s; destination received, checked, "
        f"defined and started in {(job.finished_at - job.step_began_at).total_seconds():.2f} s"
    )
    arrived = destination_agent.data_dir / "instances" / instance_id / "root.qcow2"
    (root,) = [d for d in Migration.objects.get(pk=job.payload["migration_id"]).handover["disks"]]
    same_content = subprocess.run(
        ["qemu-img", "compare", "-q", str(arrived), str(before)], check=False
    ).returncode
    checks = {
        "separate_inode": arrived.stat().st_ino != source_inode and arrived.parent != disk.parent,
        "same_sha256_received": root["sha256"] == source_sha256 and root["size_bytes"] == size,
        "same_content": same_content == 0,
    }
    return size, seconds, checks, [bare_before, bare_copy_into(before)]


def bare_copy(path, destination_dir):
    """A plain loopback socket copy of `path` into `destination_dir` (fsynced); MiB/s."""
    server = socket.create_server(("127.0.0.1", 0))
    target = Path(destination_dir) / "bare-copy.bin"
    os.sync()

    def receive():
        connection, _ = server.accept()
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        with connection, target.open("wb") as out:
            while count := connection.recv_into(view):
                out.write(view[:count])
            out.flush()
            os.fsync(out.fileno())

    receiver = threading.Thread(target=receive)
    receiver.start()
    started = time.monotonic()
    with socket.create_connection(server.getsockname()) as client, open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            client.sendall(chunk)
    receiver.join()
    seconds = time.monotonic() - started
    server.close()
    copied = target.stat().st_size
    target.unlink()
    return copied / MIB / seconds


def drain(stack, count):
    from apps.compute.models import Instance
    from apps.infrastructure.models import Host
    from apps.infrastructure.services.hosts import set_maintenance

    source, destination = stack.agents
    Host.objects.filter(name=destination.name).update(enabled=False)
    ids = launch(stack, count, "drained")
    Host.objects.filter(name=destination.name).update(enabled=True)
    started = time.monotonic()
    set_maintenance(stack.system, Host.objects.get(name=source.name), True)
    wait_for(
        lambda: (
            Instance.objects.filter(pk__in=ids, host__name=destination.name, task_state__isnull=True).count()
            == count
        ),
        "the drain",
    )
    return (time.monotonic() - started) / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--instances", type=int, default=20)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cloudmgr-bench-migration-"))
    host_ca_environment(workdir)
    os.environ["CLOUDMGR_MAINTENANCE_CONCURRENT_MOVES"] = str(CONCURRENT_MOVES)
    agent_settings = {
        "transfer_listen": "127.0.0.1:0",
        "migration_gateway_listen": "127.0.0.1:0",
        "capacity_ram_mb": 65536,
        "concurrency": 8,
    }
    try:
        with ComputeStack(depth=1, agents=2, agent_settings=agent_settings) as stack:
            size, seconds, checks, bare_runs = cold_migration(
                stack, args.size_mib, lambda path: bare_copy(path, stack.agents[1].data_dir)
            )
            per_instance = drain(stack, args.instances)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "size_mib": round(size / MIB),
        "cold_migrate_seconds": round(seconds, 2),
        "cold_migrate_mb_s": round(size / MIB / seconds, 1),
        "bare_copy_mb_s": round(sum(bare_runs) / len(bare_runs), 1),
        "bare_copy_runs_mb_s": [round(run, 1) for run in bare_runs],
        "checks": checks,
        "drain_instances": args.instances,
        "drain_seconds_per_instance": round(per_instance, 2),
    }
    result["cold_to_bare_ratio"] = round(result["cold_migrate_mb_s"] / result["bare_copy_mb_s"], 2)
    print(f"cold migration of {result['size_mib']} MiB: {seconds:.2f} s, {result['cold_migrate_mb_s']} MiB/s")
    ratio = result["cold_to_bare_ratio"]
    print(f"bare socket copy: {result['bare_copy_mb_s']} MiB/s (ratio {ratio}, target 0.6)")
    print(f"drain of {args.instances} instances: {per_instance:.2f} s per instance (target 2)")
    print(json.dumps(result))
    if not all(checks.values()):
        sys.exit(f"the migrated disk does not check out: {checks}")


if __name__ == "__main__":
    main()
