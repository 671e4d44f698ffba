"""A real QEMU guest (qemu:///system, TCG): its CPU time rises between two samples, and the samples
stored from the agent's reports show it using CPU. Kept short: one boot, two readings.

The guest, libvirt and the agent's home are apps/compute/tests/test_real_guest.py's (see conftest.py).
Skipped only when CLOUDMGR_SKIP_REAL_GUEST names a reason.
"""

import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.compute.tests.factories import OfferingFactory
from apps.compute.tests.test_real_guest import SPAWN_SECONDS, SYSTEM_URI, upload_guest
from apps.core.tests.controllers import wait_until
from apps.images.models import Image
from apps.monitoring.tables import INSTANCE_RAW

from .agents import exporter_port, launch, start_sampling_agent
from .samples import rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def cpu_seconds(port, instance_id):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "cloudmgr_instance_cpu_seconds_total"
                and sample.labels["instance_id"] == instance_id
            ):
                return sample.value
    return None


def busy_samples(instance_id):
    return [
        r
        for r in rows(INSTANCE_RAW, "instance_id", "cpu_millicores")
        if str(r[0]) == instance_id and r[1] > 0
    ]


def test_a_real_guests_cpu_time_rises_between_samples_and_its_stored_samples_show_it(
    system_libvirt,
    agent_home,
    domains_removed,
    live_server,
    signing_key,
    settings,
    api,
    member,
    project,
    tmp_path,
):
    settings.CLOUDMGR_METRICS_INTERVAL_SECONDS = 1
    guest = upload_guest(live_server.url, member, project, tmp_path / "guest")
    agent = start_sampling_agent(
        live_server.url,
        agent_home,
        libvirt_uri=SYSTEM_URI,
        domain_type="qemu",
        prometheus_listen="127.0.0.1:0",
    )
    try:
        offering = OfferingFactory(name="real.tiny", vcpus=1, ram_mb=256, root_disk_gb=1)
        image = Image.objects.get(pk=guest["image_id"])
        instance_id = launch(
            api, project, tmp_path, offering=offering, image=image, wait_seconds=SPAWN_SECONDS
        )
        domains_removed.append(f"cloudmgr-{instance_id}")
        port = exporter_port(agent)
        wait_until(lambda: cpu_seconds(port, instance_id) is not None, 30, "a reading of the guest")
        first = cpu_seconds(port, instance_id)
        time.sleep(2)
        second = cpu_seconds(port, instance_id)
        wait_until(lambda: len(busy_samples(instance_id)) >= 2, 60, "two stored samples with CPU in use")

        assert second > first > 0
        assert all(0 < cpu <= 1000 for _, cpu in busy_samples(instance_id))
        assert api.delete(f"/api/v1/instances/{instance_id}/").status_code == 202
    finally:
        agent.stop()
