"""The agent's monitoring: libvirt statistics in one call, rates between readings, the host's
counters, and the same samples served for Prometheus."""

import urllib.request

import libvirt
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent import protocol
from agent.drivers.base import DomainCounters
from agent.drivers.fake import FakeDriver
from agent.drivers.libvirt_driver import LibvirtDriver
from agent.host_stats import HostCounters, HostStats, block_device_of, default_interfaces
from agent.instance_files import InstanceFiles
from agent.prometheus_exporter import start_exporter
from agent.sampler import Sampler
from agent.settings import AgentSettings
from agent.tests.builders import make_spec, new_id

URI = "test:///default"
GIB = 1024**3


@pytest.fixture(scope="module")
def hypervisor():
    conn = libvirt.open(URI)
    yield conn
    conn.close()


def test_the_libvirt_driver_reads_every_running_cloudmgr_domain_and_only_those(hypervisor, tmp_path):
    driver = LibvirtDriver(URI, "qemu")
    image = protocol.ImageRef(new_id(), "d" * 64, 4096, "qcow2")
    spec = make_spec(image, ephemeral_disk_mb=10)
    driver.define(spec, InstanceFiles(tmp_path, spec.instance_id))
    driver.start(spec.instance_id)
    try:
        first = {c.instance_id: c for c in driver.domain_counters()}
        later = {c.instance_id: c for c in driver.domain_counters()}
    finally:
        driver.delete(spec.instance_id)
        driver.close()

    assert spec.instance_id in first
    assert all(instance_id != "6695eb01-f6a4-8304-79aa-97f2502e193f" for instance_id in first)  # "test"
    counters = first[spec.instance_id]
    assert counters.cpu_time_ns > 0
    assert counters.memory_used_kib > 0
    assert counters.disk_read_bytes > 0  # the test driver's two disks, added up
    assert later[spec.instance_id].cpu_time_ns > counters.cpu_time_ns


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FixedHost:
    def __init__(self):
        self.counters = host_counters(cpu=100.0, disk_read=0)

    def read(self):
        return self.counters


def host_counters(cpu, disk_read):
    return HostCounters(
        cpus=4,
        cpu_busy_seconds=cpu,
        memory_total_bytes=8 * GIB,
        memory_used_bytes=2 * GIB,
        disk_total_bytes=100 * GIB,
        disk_used_bytes=40 * GIB,
        disk_read_bytes=disk_read,
        disk_write_bytes=0,
        net_rx_bytes=0,
        net_tx_bytes=0,
    )


class ListedDomains:
    def __init__(self):
        self.counters = []

    def domain_counters(self):
        return self.counters


def domain(instance_id, cpu_ns, net_rx=0):
    return DomainCounters(instance_id, cpu_ns, 524288, 0, 0, 0, 0, net_rx, 0)


def test_the_first_reading_sets_the_baseline_and_the_next_gives_rates_over_the_period():
    clock, host, domains = Clock(), FixedHost(), ListedDomains()
    sampler = Sampler("compute-1", host, domains, clock=clock, monotonic=clock)
    first, second = new_id(), new_id()
    domains.counters = [domain(first, 0)]
    assert sampler.sample() is None

    clock.now += 60
    host.counters = host_counters(cpu=160.0, disk_read=60 * 4096)
    domains.counters = [domain(first, 30 * 10**9, net_rx=600), domain(second, 10**9)]
    report = sampler.sample()

    assert (report.period_seconds, report.host) == (60, "compute-1")
    assert report.host_sample.cpu_millicores == 1000  # 60 s of CPU in 60 s: one CPU busy
    assert report.host_sample.disk_read_bytes_per_s == 4096
    assert (report.host_sample.memory_used_mb, report.host_sample.disk_total_mb) == (2048, 102400)
    (sample,) = report.instances  # the second domain is new: only a baseline so far
    assert (sample.instance_id, sample.cpu_millicores, sample.net_rx_bytes_per_s) == (first, 500, 10)
    assert sample.memory_used_mb == 512


def test_a_domain_that_restarted_counts_from_zero_and_no_rate_passes_the_protocols_bound():
    clock, domains = Clock(), ListedDomains()
    sampler = Sampler("compute-1", FixedHost(), domains, clock=clock, monotonic=clock)
    restarted, wild = new_id(), new_id()
    domains.counters = [domain(restarted, 10**12), domain(wild, 0)]
    sampler.sample()
    clock.now += 10
    domains.counters = [domain(restarted, 5 * 10**9), domain(wild, 0, net_rx=2**62)]

    report = sampler.sample()

    rates = {s.instance_id: s for s in report.instances}
    assert rates[restarted].cpu_millicores == 500
    assert rates[wild].net_rx_bytes_per_s == protocol.MAX_BYTES_PER_S
    protocol.MetricsReport.from_dict(report.to_dict())  # the controller would accept it


def test_the_fake_driver_counts_only_running_domains_from_their_start(tmp_path):
    driver = FakeDriver()
    image = protocol.ImageRef(new_id(), "d" * 64, 4096, "qcow2")
    running, stopped = make_spec(image), make_spec(image)
    for spec in (running, stopped):
        driver.define(spec, InstanceFiles(tmp_path, spec.instance_id))
        driver.start(spec.instance_id)
    driver.stop(stopped.instance_id, 0)

    assert [c.instance_id for c in driver.domain_counters()] == [running.instance_id]


def test_the_hosts_counters_come_from_proc_and_the_data_directorys_filesystem(tmp_path):
    counters = HostStats(tmp_path).read()

    assert counters.cpus >= 1
    assert counters.cpu_busy_seconds > 0
    assert 0 < counters.memory_used_bytes < counters.memory_total_bytes
    assert 0 < counters.disk_used_bytes <= counters.disk_total_bytes
    assert "lo" not in default_interfaces()
    assert block_device_of("/proc") is None  # no block device behind /proc


def test_the_exporter_serves_the_latest_reading_for_prometheus(tmp_path):
    clock, domains = Clock(), ListedDomains()
    sampler = Sampler("compute-1", FixedHost(), domains, clock=clock, monotonic=clock)
    instance_id = new_id()
    domains.counters = [domain(instance_id, 3 * 10**9, net_rx=777)]
    sampler.sample()
    server = start_exporter("127.0.0.1:0", sampler)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
    finally:
        server.shutdown()

    samples = {
        (sample.name, sample.labels.get(protocol.PROMETHEUS_INSTANCE_LABEL)): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("cloudmgr_instance_cpu_seconds_total", instance_id)] == 3.0
    assert samples[("cloudmgr_instance_network_receive_bytes_total", instance_id)] == 777
    assert samples[("cloudmgr_instance_memory_used_bytes", instance_id)] == 512 * 1024 * 1024
    assert samples[("cloudmgr_host_cpu_busy_seconds_total", None)] == 100.0
    assert samples[("cloudmgr_host_cpus", None)] == 4
    for series, (metric, _, _) in protocol.PROMETHEUS_INSTANCE_SERIES.items():
        assert (metric, instance_id) in samples, series


def test_monitoring_settings_come_from_the_environment():
    settings = AgentSettings.load(
        {
            "CLOUDMGR_AGENT_METRICS_SECONDS": "15",
            "CLOUDMGR_AGENT_METRICS_TO_CONTROLLER": "false",
            "CLOUDMGR_AGENT_PROMETHEUS_LISTEN": "127.0.0.1:9177",
            "CLOUDMGR_AGENT_METRICS_INTERFACES": "eth0, bond0",
            "CLOUDMGR_AGENT_DATA_DIR": "/nonexistent",
        }
    )

    assert (settings.metrics_seconds, settings.metrics_to_controller) == (15, False)
    assert settings.prometheus_listen == "127.0.0.1:9177"
    assert settings.metrics_interfaces == ["eth0", "bond0"]
