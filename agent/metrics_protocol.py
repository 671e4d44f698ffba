"""The wire of monitoring: the samples an agent reports each period (MetricsReport, POSTed to
METRICS_REPORT_PATH) and the names of the same series for Prometheus.

Part of the protocol: agent.protocol re-exports every name here, so everyone imports them from
agent.protocol (importing this module first would find agent.protocol half made).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .protocol import Message, _check, is_host_name, is_uuid

# Every series is an integer averaged over the sampling period, its unit in its name. A value
# beyond its bound is no measurement of a real machine: the report is refused as malformed.
MAX_MILLICORES = 1000 * 4096
MAX_MB = 2**31 - 1  # 2 PiB
MAX_BYTES_PER_S = 2**40  # 1 TiB/s, past any disk or network interface
MAX_OPS_PER_S = 2**31 - 1
# How many instances one report may carry: more than any host runs.
MAX_INSTANCE_SAMPLES = 2048


def _series_bound(name):
    if name == "cpu_millicores":
        return MAX_MILLICORES
    if name.endswith("_mb"):
        return MAX_MB
    if name.endswith("_bytes_per_s"):
        return MAX_BYTES_PER_S
    return MAX_OPS_PER_S


def _check_series(sample, names):
    for name in names:
        value = getattr(sample, name)
        _check(0 <= value <= _series_bound(name), f"{name} out of range: {value}")


@dataclass(frozen=True)
class HostSample(Message):
    """The host over one sampling period: CPU and I/O averaged, memory and the data directory's disk now."""

    cpu_millicores: int  # CPU time used, all CPUs together: 1000 is one CPU busy
    memory_used_mb: int
    memory_total_mb: int
    disk_used_mb: int  # the filesystem of the agent's data directory
    disk_total_mb: int
    disk_read_bytes_per_s: int
    disk_write_bytes_per_s: int
    net_rx_bytes_per_s: int
    net_tx_bytes_per_s: int

    def validate(self):
        _check_series(self, HOST_SERIES)
        _check(self.memory_used_mb <= self.memory_total_mb, "memory_used_mb above memory_total_mb")
        _check(self.disk_used_mb <= self.disk_total_mb, "disk_used_mb above disk_total_mb")


@dataclass(frozen=True)
class InstanceSample(Message):
    """One instance over one sampling period, from libvirt's statistics of its domain."""

    instance_id: str
    cpu_millicores: int  # 1000 is one vCPU busy
    memory_used_mb: int
    disk_read_bytes_per_s: int
    disk_write_bytes_per_s: int
    disk_read_ops_per_s: int
    disk_write_ops_per_s: int
    net_rx_bytes_per_s: int
    net_tx_bytes_per_s: int

    def validate(self):
        _check(is_uuid(self.instance_id), "instance_id must be a lowercase UUID")
        _check_series(self, INSTANCE_SERIES)


HOST_SERIES = tuple(f.name for f in dataclasses.fields(HostSample))
INSTANCE_SERIES = tuple(f.name for f in dataclasses.fields(InstanceSample) if f.name != "instance_id")


@dataclass(frozen=True)
class MetricsReport(Message):
    """Samples of one sampling period: the host's and each running instance's (POSTed every period)."""

    protocol_version: int
    host: str
    sampled_at: int  # the end of the period
    period_seconds: int
    host_sample: HostSample
    instances: list[InstanceSample] = field(default_factory=list)

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")
        _check(1 <= self.period_seconds <= 3600, "period_seconds out of range")
        _check(len(self.instances) <= MAX_INSTANCE_SAMPLES, "too many instance samples")
        ids = {sample.instance_id for sample in self.instances}
        _check(len(ids) == len(self.instances), "an instance is sampled twice")


# --- The same samples for Prometheus -----------------------------------------------------------

MIB = 1024 * 1024
# What the agents expose for Prometheus (agent/prometheus_exporter.py) and how the controller reads
# each series back (apps/monitoring/prometheus.py): series -> (metric, whether it is a counter,
# factor from the metric's unit to the series'). A counter is read as its rate.
PROMETHEUS_HOST_SERIES = {
    "cpu_millicores": ("cloudmgr_host_cpu_busy_seconds_total", True, 1000),
    "memory_used_mb": ("cloudmgr_host_memory_used_bytes", False, 1 / MIB),
    "memory_total_mb": ("cloudmgr_host_memory_total_bytes", False, 1 / MIB),
    "disk_used_mb": ("cloudmgr_host_disk_used_bytes", False, 1 / MIB),
    "disk_total_mb": ("cloudmgr_host_disk_total_bytes", False, 1 / MIB),
    "disk_read_bytes_per_s": ("cloudmgr_host_disk_read_bytes_total", True, 1),
    "disk_write_bytes_per_s": ("cloudmgr_host_disk_written_bytes_total", True, 1),
    "net_rx_bytes_per_s": ("cloudmgr_host_network_receive_bytes_total", True, 1),
    "net_tx_bytes_per_s": ("cloudmgr_host_network_transmit_bytes_total", True, 1),
}
PROMETHEUS_INSTANCE_SERIES = {
    "cpu_millicores": ("cloudmgr_instance_cpu_seconds_total", True, 1000),
    "memory_used_mb": ("cloudmgr_instance_memory_used_bytes", False, 1 / MIB),
    "disk_read_bytes_per_s": ("cloudmgr_instance_disk_read_bytes_total", True, 1),
    "disk_write_bytes_per_s": ("cloudmgr_instance_disk_written_bytes_total", True, 1),
    "disk_read_ops_per_s": ("cloudmgr_instance_disk_reads_total", True, 1),
    "disk_write_ops_per_s": ("cloudmgr_instance_disk_writes_total", True, 1),
    "net_rx_bytes_per_s": ("cloudmgr_instance_network_receive_bytes_total", True, 1),
    "net_tx_bytes_per_s": ("cloudmgr_instance_network_transmit_bytes_total", True, 1),
}
# The label of instance series; the host's comes from Prometheus's own target labels (docs/monitoring.md).
PROMETHEUS_INSTANCE_LABEL = "instance_id"
PROMETHEUS_HOST_LABEL = "cloudmgr_host"
