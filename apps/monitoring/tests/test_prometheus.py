"""The Prometheus path: Debian's prometheus scrapes real agents, and with CLOUDMGR_PROMETHEUS_URL set the
charts' JSON is read from its HTTP API and drawn in Chromium."""

import pytest

from apps.core.tests.controllers import wait_until
from apps.monitoring.tables import INSTANCE_RAW

from .agents import WAIT_SECONDS, exporter_port, launch, start_sampling_agent
from .charts_in_browser import instance_url, settled_charts
from .prometheus_server import PrometheusServer
from .samples import rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes, pytest.mark.browser]


@pytest.fixture
def prometheus(tmp_path, free_tcp_port_factory):
    servers = []

    def start(targets):
        servers.append(PrometheusServer(tmp_path / "prometheus", free_tcp_port_factory(), targets))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def cpu_from_prometheus(api, instance_id):
    answer = api.get(f"/api/v1/metrics/instances/{instance_id}/?window=hour")
    assert answer.status_code == 200, answer.content
    return [value for value in answer.data["series"]["cpu_millicores"] if value]


def test_charts_read_from_prometheus_that_scrapes_the_agents(
    live_server, signing_key, settings, tmp_path, api, project, member, browsing, prometheus
):
    # The agent only serves Prometheus: nothing reaches the controller's tables.
    agent = start_sampling_agent(
        live_server.url, tmp_path, prometheus_listen="127.0.0.1:0", metrics_to_controller="false"
    )
    try:
        instance_id = launch(api, project, tmp_path)
        server = prometheus({agent.name: exporter_port(agent)})
        settings.CLOUDMGR_PROMETHEUS_URL = server.url
        # Points every 2 s over rates of 4 scrapes: the chart is right within seconds of the first scrape.
        settings.CLOUDMGR_METRICS_INTERVAL_SECONDS, settings.CLOUDMGR_PROMETHEUS_SCRAPE_INTERVAL_SECONDS = (
            2,
            1,
        )

        wait_until(
            lambda: max(cpu_from_prometheus(api, instance_id), default=0) >= 900,
            WAIT_SECONDS,
            "Prometheus to have the CPU rate",
        )
        answer = api.get(f"/api/v1/metrics/instances/{instance_id}/?window=hour")
        assert answer.data["source"] == "prometheus"
        # libvirt's test driver counts one second of CPU time a second.
        assert max(cpu_from_prometheus(api, instance_id)) <= 1100
        assert rows(INSTANCE_RAW) == []

        page = browsing.signed_in_page(member)
        page.goto(instance_url(instance_id, project.pk))
        assert settled_charts(page, least={"instance-cpu": 90})["instance-cpu"] == "drawn"
        assert page.locator("#instance-cpu").get_attribute("data-source") == "prometheus"
        assert page.locator("#instance-cpu path.line-graph-path").count() == 1
    finally:
        agent.stop()


def test_series_another_host_exposes_for_an_instance_are_not_read(
    live_server, signing_key, settings, tmp_path, api, project, prometheus
):
    agent = start_sampling_agent(live_server.url, tmp_path, prometheus_listen="127.0.0.1:0")
    try:
        instance_id = launch(api, project, tmp_path)
        # Prometheus labels the agent's target with another host's name, as a host in hostile hands
        # would want: its series do not carry the instance's real host, so they are not read.
        server = prometheus({"another-host": exporter_port(agent)})
        settings.CLOUDMGR_PROMETHEUS_URL = server.url
        wait_until(lambda: _scraped(server), WAIT_SECONDS, "a scrape")

        assert cpu_from_prometheus(api, instance_id) == []
    finally:
        agent.stop()


def _scraped(server):
    import json
    import urllib.request

    url = f"{server.url}/api/v1/query?query=cloudmgr_instance_cpu_seconds_total"
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (our own server)
        return bool(json.loads(answer.read())["data"]["result"])
