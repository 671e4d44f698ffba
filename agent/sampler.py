"""Turns the host's and the domains' counters into one sampling period's MetricsReport.

Rates need two readings: the first reading of the host, or of a domain, only
sets the baseline. A counter that went down (the domain restarted) counts from
zero. Every value is capped at the protocol's bound. The latest readings stay
available for the Prometheus exporter, which serves the same samples.
"""

import threading
import time

from . import protocol

MIB = 1024 * 1024
NS_PER_MILLICORE_SECOND = 1_000_000


def _rate(before, after, elapsed, bound):
    grown = after - before if after >= before else after
    return min(int(grown / elapsed), bound)


def host_sample(before, after, elapsed):
    def rate(name, scale=1):
        return _rate(
            getattr(before, name) * scale, getattr(after, name) * scale, elapsed, protocol.MAX_BYTES_PER_S
        )

    return protocol.HostSample(
        cpu_millicores=min(rate("cpu_busy_seconds", 1000), protocol.MAX_MILLICORES),
        memory_used_mb=after.memory_used_bytes // MIB,
        memory_total_mb=after.memory_total_bytes // MIB,
        disk_used_mb=after.disk_used_bytes // MIB,
        disk_total_mb=after.disk_total_bytes // MIB,
        disk_read_bytes_per_s=rate("disk_read_bytes"),
        disk_write_bytes_per_s=rate("disk_write_bytes"),
        net_rx_bytes_per_s=rate("net_rx_bytes"),
        net_tx_bytes_per_s=rate("net_tx_bytes"),
    )


def instance_sample(before, after, elapsed):
    def rate(name, bound=protocol.MAX_BYTES_PER_S):
        return _rate(getattr(before, name), getattr(after, name), elapsed, bound)

    return protocol.InstanceSample(
        instance_id=after.instance_id,
        cpu_millicores=min(rate("cpu_time_ns") // NS_PER_MILLICORE_SECOND, protocol.MAX_MILLICORES),
        memory_used_mb=min(after.memory_used_kib // 1024, protocol.MAX_MB),
        disk_read_bytes_per_s=rate("disk_read_bytes"),
        disk_write_bytes_per_s=rate("disk_write_bytes"),
        disk_read_ops_per_s=rate("disk_read_ops", protocol.MAX_OPS_PER_S),
        disk_write_ops_per_s=rate("disk_write_ops", protocol.MAX_OPS_PER_S),
        net_rx_bytes_per_s=rate("net_rx_bytes"),
        net_tx_bytes_per_s=rate("net_tx_bytes"),
    )


class Sampler:
    def __init__(self, host, host_stats, driver, clock=time.time, monotonic=time.monotonic):
        self.host = host
        self.host_stats, self.driver = host_stats, driver
        self.clock, self.monotonic = clock, monotonic
        self._lock = threading.Lock()
        self._previous = None
        # (HostCounters, [DomainCounters]) of the latest reading, for the Prometheus exporter.
        self.latest = None

    def sample(self):
        """Read every counter; the MetricsReport since the previous reading (None the first time)."""
        host = self.host_stats.read()
        domains = {counters.instance_id: counters for counters in self.driver.domain_counters()}
        now = self.monotonic()
        with self._lock:
            previous, self._previous = self._previous, (now, host, domains)
            self.latest = (host, list(domains.values()))
        if previous is None:
            return None
        then, host_before, domains_before = previous
        elapsed = max(now - then, 0.001)
        instances = [
            instance_sample(domains_before[instance_id], counters, elapsed)
            for instance_id, counters in domains.items()
            if instance_id in domains_before
        ]
        return protocol.MetricsReport(
            protocol_version=protocol.PROTOCOL_VERSION,
            host=self.host,
            sampled_at=int(self.clock()),
            period_seconds=min(max(round(elapsed), 1), 3600),
            host_sample=host_sample(host_before, host, elapsed),
            instances=instances[: protocol.MAX_INSTANCE_SAMPLES],
        )
