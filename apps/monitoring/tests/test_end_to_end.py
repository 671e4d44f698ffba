"""The real path: agent process on test:///default -> signed reports -> stored samples -> the chart's
JSON and /metrics, with the live server as the controller."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.monitoring.tables import HOST_RAW, INSTANCE_RAW

from .agents import WAIT_SECONDS, launch, start_sampling_agent
from .samples import rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def test_an_agent_sends_samples_that_the_chart_and_metrics_show(
    live_server, signing_key, settings, tmp_path, api, admin_api, project
):
    settings.CLOUDMGR_METRICS_INTERVAL_SECONDS = 1
    agent = start_sampling_agent(live_server.url, tmp_path)
    try:
        instance_id = launch(api, project, tmp_path)
        wait_until(
            lambda: len([r for r in rows(INSTANCE_RAW, "instance_id") if str(r[0]) == instance_id]) >= 3,
            WAIT_SECONDS,
            "three samples of the instance",
        )
    finally:
        agent.stop()

    chart = api.get(f"/api/v1/metrics/instances/{instance_id}/?window=hour")
    assert chart.status_code == 200
    assert chart.data["source"] == "database"
    assert len(chart.data["timestamps"]) >= 3
    # libvirt's test driver counts one second of CPU time a second: one vCPU busy (never more: capped).
    assert 900 <= max(chart.data["series"]["cpu_millicores"]) <= 1000
    assert max(chart.data["series"]["disk_read_bytes_per_s"]) > 0
    host = Host.objects.get(name=agent.name)
    assert {row[0] for row in rows(HOST_RAW, "host_id")} == {host.pk}
    host_chart = admin_api.get(f"/api/v1/metrics/hosts/{host.pk}/")
    assert max(host_chart.data["series"]["memory_total_mb"]) > 0

    settings.CLOUDMGR_METRICS_INTERVAL_SECONDS = 3600  # so the samples above still count as the latest
    exposition = admin_api.get("/metrics").content.decode()
    latest = {
        sample.labels.get("instance_id"): sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "cloudmgr_instance_sample_cpu_millicores"
        for sample in family.samples
    }
    assert 900 <= latest[instance_id] <= 1000
