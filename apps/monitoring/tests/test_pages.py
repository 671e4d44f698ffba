"""The monitoring pages through Django's client: the instance page's charts, the host page's utilisation
next to its allocation, the monitoring page and the alerts card; and what each person is shown."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.compute.tests.factories import InstanceFactory
from apps.core import policy
from apps.core.web import sections
from apps.core.web.sections import Section
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.infrastructure import capacity
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory
from apps.monitoring.alerts import evaluate_alerts
from apps.monitoring.rollup import run_rollups
from apps.monitoring.web.views import OVERVIEW_PAGE

from .samples import instance_sample, store_minutes

pytestmark = pytest.mark.django_db
HOST_NAME = "kvm-rack3-secret"
TIMES = "\N{MULTIPLICATION SIGN}"


def session(user):
    client = Client()
    client.force_login(user)
    return client


def instance_page(client, instance, window=None):
    url = reverse("compute:instance-detail", args=[instance.project_id, instance.pk])
    return client.get(url, {"window": window} if window else {})


def summary(page, chart_id):
    """{line: (latest, average, peak)} of a chart's summary table."""
    figure = page.split(f'id="{chart_id}"')[1].split("</figure>")[0]
    table = figure.split('class="chart-summary"')[1].split("</table>")[0]
    rows = re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>', table)
    return {line: values for line, *values in rows}


def drawing(page, chart_id):
    return json.loads(
        re.search(rf'<script id="{chart_id}-data" type="application/json">(.*?)</script>', page).group(1)
    )


@pytest.fixture
def host(root):
    return HostFactory(name=HOST_NAME, cpus=8)


@pytest.fixture
def instance(host, project):
    return InstanceFactory(host=host, project=project, name="web", vcpus=2, ram_mb=2048)


def ten_minutes(host, instance, end=None):
    """Minute m: the instance at 100·m millicores (5·m % of its 2 vCPUs), receiving 2 KiB/s·m; the host
    at 1000·m millicores."""
    store_minutes(
        host,
        10,
        lambda m: (
            [instance_sample(instance.pk, cpu_millicores=100 * m, net_rx_bytes_per_s=2048 * m)],
            {"cpu_millicores": 1000 * m, "memory_used_mb": 4096, "memory_total_mb": 16384},
        ),
        end=end,
    )


def test_the_instance_page_charts_its_cpu_network_and_disk_with_the_figures_as_text(member, host, instance):
    ten_minutes(host, instance)

    response = instance_page(session(member), instance)

    page = response.content.decode()
    assert response.status_code == 200
    for chart in ("instance-cpu", "instance-network", "instance-disk-io"):
        assert f'id="{chart}"' in page
    assert summary(page, "instance-cpu") == {"CPU": ["45.0", "22.5", "45.0"]}
    assert summary(page, "instance-network") == {"received": ["18.0", "9.0", "18.0"], "sent": ["0.0"] * 3}
    cpu = drawing(page, "instance-cpu")
    assert cpu["unit"] == "%"
    assert cpu["datasets"] == [{"name": "CPU", "values": [5.0 * m for m in range(10)]}]
    assert drawing(page, "instance-network")["unit"] == "KiB/s"
    assert "All 10 points as a table" in page
    assert 'aria-current="true">Last hour</a>' in page


def test_the_day_and_week_windows_read_the_rolled_up_averages(member, host, instance):
    now = timezone.now()
    five_minutes_ago = now.replace(minute=now.minute // 5 * 5, second=0, microsecond=0) - timedelta(minutes=5)
    ten_minutes(host, instance, end=five_minutes_ago - timedelta(minutes=30) + timedelta(minutes=4))
    with time_machine.travel(now + timedelta(hours=1, minutes=10), tick=False):
        run_rollups()

    day = instance_page(session(member), instance, "day").content.decode()
    week = instance_page(session(member), instance, "week").content.decode()

    assert 'aria-current="true">Last day</a>' in day
    # Two 5-minute averages: of minutes 0-4 (0 to 20 %) and 5-9 (25 to 45 %).
    assert drawing(day, "instance-cpu")["datasets"][0]["values"] == [10.0, 35.0]
    assert summary(day, "instance-cpu") == {"CPU": ["35.0", "22.5", "35.0"]}
    assert 'aria-current="true">Last week</a>' in week
    assert 'data-source="database"' in week


def test_an_instance_without_samples_says_so_and_draws_nothing(member, instance):
    page = instance_page(session(member), instance).content.decode()

    assert page.count("No samples in this window yet.") == 3
    assert 'data-state="empty"' in page
    assert "application/json" not in page


def test_a_window_that_is_not_hour_day_or_week_is_refused(member, instance):
    response = instance_page(session(member), instance, "year")

    assert response.status_code == 400
    assert "window must be one of hour, day, week." in response.content.decode()


def test_a_project_reader_sees_the_charts_and_another_tenant_gets_the_same_404_as_for_no_instance(
    reader, host, instance
):
    ten_minutes(host, instance)
    stranger = UserFactory()
    grant(stranger, policy.PROJECT_MEMBER, ProjectFactory())

    assert summary(instance_page(session(reader), instance).content.decode(), "instance-cpu")
    assert instance_page(session(stranger), instance).status_code == 404


def test_the_instance_page_names_no_host_to_its_tenants(member, host, instance):
    ten_minutes(host, instance)
    domain_admin = UserFactory(domain=instance.project.domain)
    grant(domain_admin, policy.DOMAIN_ADMIN, instance.project.domain)

    for user in (member, domain_admin):
        page = instance_page(session(user), instance).content.decode()
        assert "instance-cpu" in page
        assert HOST_NAME not in page


def test_the_host_page_shows_use_next_to_allocation_and_overcommit_with_its_open_alerts(
    cloud_admin, host, instance, settings
):
    settings.CLOUDMGR_ALERT_EMAILS = ["ops@example.test"]
    settings.CLOUDMGR_ALERT_HOST_DISK_PERCENT = 50
    assert capacity.claim(host.pk, instance.pk, capacity.Amounts(vcpus=12, ram_mb=4096, disk_gb=50))
    store_minutes(
        host,
        3,
        lambda m: (
            [],
            {
                "cpu_millicores": 2000,
                "memory_used_mb": 4096,
                "memory_total_mb": 16384,
                "disk_used_mb": 900 * 1024,
                "disk_total_mb": 1000 * 1024,
            },
        ),
    )
    evaluate_alerts()

    page = session(cloud_admin).get(reverse("infrastructure:host-detail", args=[host.pk])).content.decode()

    section = page.split('id="section-utilisation"')[1]
    rows = re.findall(r'<th scope="row">(\w+)</th>\s*<td[^>]*>(.*?)\n', section)
    host.refresh_from_db()
    assert rows[0] == ("vCPUs", f"12 of {host.vcpus_limit} ({12 * 100 // host.vcpus_limit}%)")
    assert "2.0 of 8 CPUs (25.0%)" in section
    assert "4096 of 16384 MB (25.0%)" in section
    assert "900.0 of 1000.0 GB (90.0%)" in section
    assert f"{TIMES} {host.effective_cpu_allocation_ratio:g}" in section
    assert '<span class="badge bad">Host disk nearly full</span>' in section
    assert "Host kvm-rack3-secret: its data disk is 90.0% full." in section
    assert summary(section, "host-cpu") == {"CPU": ["25.0", "25.0", "25.0"]}


def test_the_monitoring_page_shows_a_cloud_admin_alerts_capacity_hosts_and_top_consumers(
    cloud_admin, host, instance, project, settings
):
    settings.CLOUDMGR_ALERT_EMAILS = ["ops@example.test"]
    HostFactory(name="silent-host", state=Host.DOWN)
    quiet = InstanceFactory(host=host, project=project, name="quiet", vcpus=2)
    store_minutes(
        host,
        2,
        lambda m: (
            [
                instance_sample(instance.pk, cpu_millicores=1500),
                instance_sample(quiet.pk, cpu_millicores=100),
            ],
            {"cpu_millicores": 3000, "memory_total_mb": 16384},
        ),
    )
    evaluate_alerts()

    page = session(cloud_admin).get(reverse("monitoring:overview")).content.decode()

    assert "Host silent-host is down (no heartbeat)." in page
    capacity_rows = re.findall(
        r'<th scope="row">(\w+)</th>\s*<td[^>]*>(.*?)</td>', page.split('id="capacity-title"')[1]
    )
    assert capacity_rows[0] == ("vCPUs", "8")  # the host down is not counted
    assert "3.0 of 8 CPUs (37.5%)" in page
    assert f'data-host="{HOST_NAME}"' in page
    assert 'data-host="silent-host"' in page
    cpu_table = page.split("<caption>Most CPU</caption>")[1].split("</table>")[0]
    assert re.findall(r'">(web|quiet)</a>', cpu_table) == ["web", "quiet"]
    assert "75.0% of its vCPUs" in cpu_table
    assert HOST_NAME in cpu_table
    assert 'id="cloud-cpu"' in page


def test_a_domain_admin_sees_its_own_top_consumers_and_nothing_of_hosts_or_other_domains(
    host, instance, project
):
    elsewhere = InstanceFactory(host=host, project=ProjectFactory(), name="not-yours")
    store_minutes(
        host,
        2,
        lambda m: ([instance_sample(instance.pk), instance_sample(elsewhere.pk, cpu_millicores=2000)], {}),
    )
    domain_admin = UserFactory(domain=project.domain)
    grant(domain_admin, policy.DOMAIN_ADMIN, project.domain)
    HostFactory(name="silent-host", state=Host.DOWN)
    evaluate_alerts()

    page = session(domain_admin).get(reverse("monitoring:overview")).content.decode()

    assert ">web</a>" in page
    assert "not-yours" not in page
    for platform_fact in (HOST_NAME, "silent-host", "Capacity of the hosts up", "Alerts", "cloud-cpu"):
        assert platform_fact not in page


def test_the_monitoring_page_is_not_there_for_a_project_member(member):
    assert session(member).get(reverse("monitoring:overview")).status_code == 404


def test_the_admin_overview_counts_the_open_alerts_for_those_who_read_them(cloud_admin, project, settings):
    settings.CLOUDMGR_ALERT_EMAILS = ["ops@example.test"]
    HostFactory(name="silent-1", state=Host.DOWN)
    HostFactory(name="silent-2", state=Host.DOWN)
    evaluate_alerts()
    domain_admin = UserFactory(domain=project.domain)
    grant(domain_admin, policy.DOMAIN_ADMIN, project.domain)

    for_admin = session(cloud_admin).get(reverse("portal:admin-overview")).content.decode()
    for_domain_admin = session(domain_admin).get(reverse("portal:admin-overview")).content.decode()

    assert re.search(r"<dt>Host down</dt><dd>2</dd>", for_admin)
    assert "Open alerts" not in for_domain_admin


def test_a_host_reporting_zero_sizes_or_more_use_than_size_breaks_no_page(
    cloud_admin, host, instance, member
):
    """A host in hostile hands may send any value within the protocol's bounds."""
    store_minutes(
        host,
        2,
        lambda m: (
            [instance_sample(instance.pk, cpu_millicores=0)],
            {
                "memory_used_mb": 5000 * (1 - m),
                "memory_total_mb": 0,
                "disk_used_mb": 9000,
                "disk_total_mb": 10,
            },
        ),
    )
    admin = session(cloud_admin)

    host_page = admin.get(reverse("infrastructure:host-detail", args=[host.pk]))
    overview = admin.get(reverse("monitoring:overview"))

    assert host_page.status_code == overview.status_code == 200
    assert instance_page(session(member), instance).status_code == 200
    section = host_page.content.decode().split('id="section-utilisation"')[1]
    # No whole to take a share of: no point is drawn; more than the whole is drawn as it is.
    assert re.search(r'id="host-memory"[^>]*\s+data-state="empty"', section)
    assert summary(section, "host-data-disk") == {"data disk": ["90000.0"] * 3}


def test_the_monitoring_page_carries_the_sections_another_app_registers_there(cloud_admin, monkeypatch):
    """Billing's spend per domain goes here: a section of the page monitoring.overview."""
    spend = Section(OVERVIEW_PAGE, "spend", "Spend per domain", "web/pager.html", lambda request, _: {}, 10)
    monkeypatch.setitem(sections._sections, (OVERVIEW_PAGE, "spend"), spend)

    page = session(cloud_admin).get(reverse("monitoring:overview")).content.decode()

    assert '<h2 id="section-spend-title">Spend per domain</h2>' in page
