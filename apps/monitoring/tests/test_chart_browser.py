"""The monitoring pages in Chromium at a laptop's and a phone's width, drawn from samples stored by the
ingest path: a member's instance charts, and the admin's host page and monitoring page. Nothing is
wider than the window; the figures are there as tables too. Screenshots: test-artifacts/screenshots/."""

import pytest
from django.urls import reverse

from apps.compute.tests.factories import InstanceFactory
from apps.infrastructure import capacity
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory
from apps.monitoring.alerts import evaluate_alerts
from apps.portal.tests import browser

from .charts_in_browser import instance_url, settled_charts
from .samples import instance_sample, store_minutes

pytestmark = pytest.mark.browser
VIEWPORTS = pytest.mark.parametrize("viewport", [browser.LAPTOP, browser.PHONE], ids=["laptop", "phone"])
MINUTES = 40


def busy(minute):
    """A daily shape squeezed into the window: CPU climbing and falling, traffic in bursts."""
    wave = abs((minute % 20) - 10) / 10
    return {
        "cpu_millicores": int(200 + 1600 * wave),
        "net_rx_bytes_per_s": int(3_000_000 * wave) + 40_000,
        "net_tx_bytes_per_s": int(900_000 * (1 - wave)) + 20_000,
        "disk_read_bytes_per_s": 5_000_000 if minute % 7 == 0 else 200_000,
        "disk_write_bytes_per_s": int(1_500_000 * wave),
    }


def history(host, instances):
    """MINUTES minutes of reports of the host and its instances, ending now."""
    store_minutes(
        host,
        MINUTES,
        lambda m: (
            [instance_sample(i.pk, **busy(m + n * 5)) for n, i in enumerate(instances)],
            {
                "cpu_millicores": sum(busy(m + n * 5)["cpu_millicores"] for n in range(len(instances))) + 300,
                "memory_used_mb": 9000 + 40 * m,
                "memory_total_mb": 16384,
                "disk_used_mb": 460_000,
                "disk_total_mb": 500_000,
                "net_rx_bytes_per_s": 4_000_000 + 10_000 * m,
                "net_tx_bytes_per_s": 1_500_000,
            },
        ),
    )


@VIEWPORTS
def test_a_member_sees_their_instances_cpu_network_and_disk_drawn_from_its_samples(
    browsing, member, project, viewport
):
    host = HostFactory(name="kvm-07.example.test")
    instance = InstanceFactory(host=host, project=project, name="web-1", vcpus=2, ram_mb=2048)
    history(host, [instance])
    page = browsing.signed_in_page(member, viewport=viewport)

    assert page.goto(instance_url(instance.pk, project.pk)).status == 200
    states = settled_charts(page, least={"instance-cpu": 80})

    assert states == {"instance-cpu": "drawn", "instance-network": "drawn", "instance-disk-io": "drawn"}
    for chart in states:
        assert page.locator(f"#{chart} path.line-graph-path").count() >= 1
    assert page.locator("#instance-network path.line-graph-path").count() == 2  # received and sent
    assert page.locator("#instance-cpu figcaption").inner_text() == "CPU, % of its vCPUs · last hour, in %"
    cpu_summary = page.locator("#instance-cpu table.chart-summary").inner_text()
    assert "90.0" in cpu_summary  # the peak: 1800 of 2000 millicores
    page.locator("#instance-cpu details summary").click()
    assert page.locator("#instance-cpu details tbody tr").count() == MINUTES
    assert "kvm-07" not in page.content()
    assert browser.overflowing(page) == []
    browser.screenshot(page, "monitoring-instance")

    page.get_by_role("link", name="Last week").click()
    assert page.locator("nav.windows a[aria-current]").inner_text() == "Last week"
    assert set(settled_charts(page).values()) == {"empty"}  # nothing rolled up to hours yet


@VIEWPORTS
def test_an_admin_sees_a_hosts_use_beside_its_allocation_and_the_clouds_monitoring_page(
    browsing, cloud_admin, project, viewport, settings
):
    settings.CLOUDMGR_ALERT_EMAILS = ["ops@example.test"]
    host = HostFactory(name="kvm-07.example.test", cpus=16, ram_mb=16384, disk_gb=488)
    HostFactory(name="kvm-08.example.test", state=Host.DOWN)
    instances = [
        InstanceFactory(host=host, project=project, name=name, vcpus=2, ram_mb=2048)
        for name in ("web-1", "web-2", "batch-worker")
    ]
    for instance in instances:
        assert capacity.claim(host.pk, instance.pk, capacity.Amounts(vcpus=2, ram_mb=2048, disk_gb=20))
    history(host, instances)
    evaluate_alerts()
    page = browsing.signed_in_page(cloud_admin, viewport=viewport)

    assert page.goto(reverse("infrastructure:host-detail", args=[host.pk])).status == 200
    states = settled_charts(page, least={"host-memory": 50, "host-data-disk": 90})
    assert list(states.values()) == ["drawn"] * 5
    section = page.locator("#section-utilisation")
    assert "Host disk nearly full" in section.inner_text()
    assert "460000 of 500000 MB" not in section.inner_text()  # the disk is shown in GB
    assert "449.2 of 488.3 GB (92.0%)" in section.inner_text()
    assert browser.overflowing(page) == []
    browser.screenshot(page, "monitoring-host")

    assert page.goto(reverse("monitoring:overview")).status == 200
    states = settled_charts(page, least={"cloud-data-disk": 90})
    assert list(states.values()) == ["drawn"] * 4
    alerts = page.locator("table.alerts").inner_text()
    assert "kvm-08.example.test" in alerts
    assert "Host disk nearly full" in alerts
    assert page.locator("tr[data-host]").count() == 2
    most_cpu = page.locator("table", has_text="Most CPU").locator("tbody tr")
    assert most_cpu.count() == 3
    assert browser.overflowing(page) == []
    browser.screenshot(page, "monitoring-overview")
