"""A host's usage per resource: what is allocated against its limit ((total - reserve) x ratio)."""

from dataclasses import dataclass

from ..capacity import MB_PER_GB


@dataclass(frozen=True)
class Usage:
    resource: str
    used: int
    limit: int
    physical: int
    reserved: int
    ratio: float
    unit: str

    @property
    def percent(self):
        if self.limit <= 0:
            return 100 if self.used else 0
        return min(100, self.used * 100 // self.limit)

    @property
    def ratio_text(self):
        return f"{self.ratio:g}"

    @property
    def level(self):
        """The same bands as the quota bars: ok below 70 %, high below 90 %, then full."""
        return "ok" if self.percent < 70 else "high" if self.percent < 90 else "full"


def usage_of(host):
    return [
        Usage(
            "vCPUs", host.vcpus_used, host.vcpus_limit, host.cpus, 0, host.effective_cpu_allocation_ratio, ""
        ),
        Usage(
            "RAM",
            host.ram_mb_used,
            host.ram_mb_limit,
            host.ram_mb,
            host.reserved_host_memory_mb,
            host.effective_ram_allocation_ratio,
            "MB",
        ),
        Usage(
            "Disk",
            host.disk_gb_used,
            host.disk_gb_limit,
            host.disk_gb,
            host.reserved_host_disk_mb // MB_PER_GB,
            host.effective_disk_allocation_ratio,
            "GB",
        ),
    ]
