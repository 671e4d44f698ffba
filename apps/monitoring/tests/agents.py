"""Real agents that sample, for monitoring's end-to-end tests, and an instance launched on one.

The agents are apps/compute/tests/agent_processes.py's (enrolled, `python -m
agent run` on test:///default); here they sample every second and may serve
their samples for Prometheus.
"""

import re
import uuid

from agent.tests.builders import qcow2_bytes
from apps.compute.models import Instance
from apps.compute.tests.agent_processes import AgentProcess
from apps.compute.tests.factories import OfferingFactory
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.images.tests.factories import active_image
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import ZoneFactory

WAIT_SECONDS = 90
_EXPORTER = re.compile(r"prometheus exporter listening on [^:]+:(\d+)")


def start_sampling_agent(live_server_url, directory, **agent_settings):
    agent = AgentProcess(
        Actor.system("test"),
        f"mon-{uuid.uuid4().hex[:10]}",
        ZoneFactory(name="zone-monitoring"),
        live_server_url,
        directory,
        metrics_seconds=1,
        **agent_settings,
    )
    wait_until(
        lambda: Host.objects.filter(name=agent.name, state=Host.UP).exists(), WAIT_SECONDS, "a heartbeat"
    )
    return agent


def exporter_port(agent):
    wait_until(lambda: _EXPORTER.search(agent.log()), WAIT_SECONDS, "the agent's exporter")
    return int(_EXPORTER.search(agent.log()).group(1))


def launch(api, project, directory, offering=None, image=None, wait_seconds=WAIT_SECONDS):
    """An instance launched through the API and running; its id."""
    image = image or active_image(
        project, name="monitored", disk_format="qcow2", content=qcow2_bytes(directory)
    )
    offering = offering or OfferingFactory(name="m1.monitored", vcpus=1, ram_mb=256, root_disk_gb=1)
    body = {"name": "monitored", "offering_id": str(offering.id), "image_id": str(image.id)}
    response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    instance_id = response.data["id"]
    wait_until(
        lambda: Instance.objects.filter(pk=instance_id, task_state__isnull=True).exists(),
        wait_seconds,
        "the spawn",
    )
    instance = Instance.objects.get(pk=instance_id)
    assert (instance.vm_state, instance.power_state) == ("active", "running"), instance.fault_message
    return instance_id
