"""The agent's samples for Prometheus to scrape: the latest counters of the host and its instances.

Off unless ``prometheus_listen`` is set. A scrape reads what the sampler read last
(it never calls libvirt itself), so a scrape costs nothing and Prometheus sees
the same numbers the controller gets. Metric names and units are agent.protocol's
PROMETHEUS_* tables; the controller reads them back with the same tables.
"""

import logging

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from . import protocol

log = logging.getLogger(__name__)

# Each series' value in the metric's unit, from the sampler's counters.
HOST_VALUES = {
    "cpu_millicores": lambda c: c.cpu_busy_seconds,
    "memory_used_mb": lambda c: c.memory_used_bytes,
    "memory_total_mb": lambda c: c.memory_total_bytes,
    "disk_used_mb": lambda c: c.disk_used_bytes,
    "disk_total_mb": lambda c: c.disk_total_bytes,
    "disk_read_bytes_per_s": lambda c: c.disk_read_bytes,
    "disk_write_bytes_per_s": lambda c: c.disk_write_bytes,
    "net_rx_bytes_per_s": lambda c: c.net_rx_bytes,
    "net_tx_bytes_per_s": lambda c: c.net_tx_bytes,
}
INSTANCE_VALUES = {
    "cpu_millicores": lambda c: c.cpu_time_ns / 1e9,
    "memory_used_mb": lambda c: c.memory_used_kib * 1024,
    "disk_read_bytes_per_s": lambda c: c.disk_read_bytes,
    "disk_write_bytes_per_s": lambda c: c.disk_write_bytes,
    "disk_read_ops_per_s": lambda c: c.disk_read_ops,
    "disk_write_ops_per_s": lambda c: c.disk_write_ops,
    "net_rx_bytes_per_s": lambda c: c.net_rx_bytes,
    "net_tx_bytes_per_s": lambda c: c.net_tx_bytes,
}


def _family(metric, is_counter, labels=None):
    # prometheus_client adds "_total" to a counter's name itself.
    if is_counter:
        return CounterMetricFamily(metric.removesuffix("_total"), metric, labels=labels)
    return GaugeMetricFamily(metric, metric, labels=labels)


class SampleCollector(Collector):
    def __init__(self, sampler):
        self.sampler = sampler

    def collect(self):
        latest = self.sampler.latest
        if latest is None:
            return
        host, domains = latest
        yield GaugeMetricFamily("cloudmgr_host_cpus", "CPUs of the host", value=host.cpus)
        for series, (metric, is_counter, _factor) in protocol.PROMETHEUS_HOST_SERIES.items():
            family = _family(metric, is_counter)
            family.add_metric([], HOST_VALUES[series](host))
            yield family
        for series, (metric, is_counter, _factor) in protocol.PROMETHEUS_INSTANCE_SERIES.items():
            family = _family(metric, is_counter, [protocol.PROMETHEUS_INSTANCE_LABEL])
            for counters in domains:
                family.add_metric([counters.instance_id], INSTANCE_VALUES[series](counters))
            yield family


def parse_listen(listen):
    address, _, port = listen.rpartition(":")
    return address.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 (the operator's choice)


def start_exporter(listen, sampler):
    """Serve /metrics on `listen` ("address:port"; port 0 picks one); returns the server."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SampleCollector(sampler))
    address, port = parse_listen(listen)
    server, _thread = start_http_server(port, addr=address, registry=registry)
    log.info("prometheus exporter listening on %s:%d", address, server.server_port)
    return server
