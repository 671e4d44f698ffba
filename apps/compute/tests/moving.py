"""Real agents for the tests of moves: each its own process, data directory, queue and hypervisor.

The agents enroll with the controller under test (the test's live server, or a
controller process) and get TLS certificates from its host CA; they serve disk
transfers on loopback. On libvirt's test:///default each agent process has a
hypervisor of its own; with the fake driver (live migration, which the test
driver cannot do) two agents migrate guests through a directory they share,
the fake's stand-in for the network between two hypervisors.

`no_instance_on_two_hosts` is the check every test of moves ends with: after a
fresh heartbeat of every host, no instance has a domain on two of them.
"""

import subprocess
import time
import uuid

from django.utils import timezone

from apps.compute.models import Instance
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.jobs.models import Job

from .agent_processes import AgentProcess

WAIT_SECONDS = 90
MOVE_SETTINGS = {"transfer_listen": "127.0.0.1:0", "migration_gateway_listen": "127.0.0.1:0"}


def start_agents(controller_url, tmp_path, zone, count, prefix="mv", **agent_settings):
    """`count` agents enrolled with the controller at `controller_url`, returned once each is up."""
    agents = [
        AgentProcess(
            Actor.system("test"),
            f"{prefix}-{uuid.uuid4().hex[:8]}",
            zone,
            controller_url,
            tmp_path,
            **{**MOVE_SETTINGS, **agent_settings},
        )
        for _ in range(count)
    ]
    names = [agent.name for agent in agents]
    wait_until(
        lambda: Host.objects.filter(name__in=names, state=Host.UP, transfer_port__gt=0).count() == count,
        WAIT_SECONDS,
        "the agents to heartbeat",
    )
    return agents


def qemu_io(path, command):
    """Run one qemu-io command on a disk no guest holds (test:///default runs no qemu); True if it passed."""
    done = subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", command, str(path)], capture_output=True, text=True, timeout=60
    )
    return done.returncode == 0 and "Pattern verification failed" not in done.stdout + done.stderr


def launched_on(api, offering, image, agents, where, **body):
    """An instance launched on the agent `where` (the others disabled meanwhile)."""
    others = [host_of(agent).pk for agent in agents if agent is not where]
    Host.objects.filter(pk__in=others).update(enabled=False)
    try:
        return launch(api, offering, image, **body)
    finally:
        Host.objects.filter(pk__in=others).update(enabled=True)


def on_the_first_of_two(cloud, api, offering, image):
    """Two agents, each with room for about one instance, and an instance launched on the first."""
    source, destination = cloud(2, capacity_ram_mb=2048)
    return launched_on(api, offering, image, [source, destination], source), source, destination


def host_of(agent):
    return Host.objects.get(name=agent.name)


def settled(instance_id):
    return Instance.objects.filter(pk=instance_id, task_state__isnull=True).first()


def wait_settled(instance_id, what="the action"):
    wait_until(lambda: settled(instance_id) is not None, WAIT_SECONDS, what)
    return settled(instance_id)


def launch(api, offering, image, name="moved", **body):
    """An instance launched through the API, once its spawn ended (it must be active)."""
    response = api.post(
        "/api/v1/instances/",
        {"name": name, "offering_id": str(offering.id), "image_id": str(image.id), **body},
        format="json",
    )
    assert response.status_code == 202, response.content
    instance = wait_settled(response.data["id"], "the spawn")
    assert instance.vm_state == "active", (instance.fault_code, instance.fault_message)
    return instance


def request(client, instance, action, body=None, status=202):
    """POST an instance action; returns the job (when accepted) or the response (when refused)."""
    response = client.post(f"/api/v1/instances/{instance.pk}/{action}/", body or {}, format="json")
    assert response.status_code == status, response.content
    return Job.objects.get(pk=response.data["job_id"]) if status == 202 else response


def moved(client, instance, action, body=None):
    """Start a move (or its confirm or revert) and return the instance once it settled, with the job."""
    job = request(client, instance, action, body)
    instance = wait_settled(instance.pk, action)
    job.refresh_from_db()
    return instance, job


def fresh_inventories(agents):
    """Each agent's host, as its first heartbeat after now reported it."""
    since = timezone.now()
    names = [agent.name for agent in agents]
    wait_until(
        lambda: Host.objects.filter(name__in=names, inventory_reported_at__gt=since).count() == len(names),
        WAIT_SECONDS,
        "a fresh heartbeat of every host",
    )
    return {host.name: host.reported_inventory for host in Host.objects.filter(name__in=names)}


def domains(inventory, running_only=False):
    return {
        d["instance_id"]
        for d in inventory.get("instances", [])
        if not running_only or d["power_state"] not in ("shutoff", "crashed")
    }


def no_instance_on_two_hosts(agents):
    """After a fresh heartbeat of every host: no instance has a domain on two hosts. Returns where each is."""
    where = {}
    for host, inventory in fresh_inventories(agents).items():
        for instance_id in domains(inventory):
            assert instance_id not in where, f"instance {instance_id} is on {where[instance_id]} and {host}"
            where[instance_id] = host
    return where


def pause(seconds):
    """Give the agents a moment (a heartbeat period) where a test must show that nothing happens."""
    time.sleep(seconds)
