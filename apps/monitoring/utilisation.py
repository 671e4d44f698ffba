"""What hosts really use next to what is allocated on them: per host, and for the cloud's hosts that are up.

Allocation is what instances hold against a host's limit (its physical size,
less its reserve, times its overcommit ratio: apps/infrastructure/web/usage.py);
use is the host's latest sample (CPU, memory, its data disk). Both are facts of
the platform: only those who see hosts are shown them (the callers check).
"""

from dataclasses import dataclass

from django.db.models import Sum

from apps.infrastructure.capacity import MB_PER_GB
from apps.infrastructure.models import Host
from apps.infrastructure.web.usage import usage_of

from .latest import latest_rows
from .tables import HOST_RAW


@dataclass(frozen=True)
class InUse:
    """A measured use of `what` against what physically exists (None: no recent sample)."""

    what: str
    used: float | None
    total: float | None
    unit: str

    @property
    def known(self):
        return self.used is not None and bool(self.total)

    @property
    def percent(self):
        return round(self.used * 100 / self.total, 1) if self.known else None


@dataclass(frozen=True)
class Utilisation:
    """One resource of a host: its allocation (an infrastructure Usage) and its measured use."""

    allocation: object
    in_use: InUse

    @property
    def resource(self):
        return self.allocation.resource


def latest_host_samples(host_ids, now=None):
    """{host id: {series: value}} of the hosts' latest samples (hosts without a recent one are absent)."""
    rows = latest_rows(HOST_RAW, "s.host_id", now=now, subject_ids=host_ids)
    return {row[0]: dict(zip(HOST_RAW.series, row[1:], strict=True)) for row in rows}


def _in_use(what, sample, used, total, unit, scale=None):
    """`scale`: the divisor from the series' unit to `unit` (None: the same unit, whole numbers)."""
    if sample is None:
        return InUse(what, None, None, unit)
    if scale is None:
        return InUse(what, sample[used], sample[total], unit)
    return InUse(what, round(sample[used] / scale, 1), round(sample[total] / scale, 1), unit)


def measured(sample, cpus):
    """[InUse] of CPU, memory and the data disk in a sample (None: no recent sample); `cpus` physical."""
    cpu = None if sample is None else round(sample["cpu_millicores"] / 1000, 1)
    return [
        InUse("CPU", cpu, cpus or None, "CPUs"),
        _in_use("RAM", sample, "memory_used_mb", "memory_total_mb", "MB"),
        _in_use("Data disk", sample, "disk_used_mb", "disk_total_mb", "GB", scale=MB_PER_GB),
    ]


def utilisation_of(host, sample):
    """[Utilisation] of vCPUs, RAM and disk: allocated against the limit, used against the physical size."""
    return [Utilisation(*pair) for pair in zip(usage_of(host), measured(sample, host.cpus), strict=True)]


def hosts_utilisation(hosts, now=None):
    """[(host, [Utilisation])] of the given hosts, their samples read in one statement."""
    hosts = list(hosts)
    samples = latest_host_samples([host.pk for host in hosts], now)
    return [(host, utilisation_of(host, samples.get(host.pk))) for host in hosts]


@dataclass(frozen=True)
class CloudResource:
    """A resource of the hosts that are up, added up: their size, limit, allocation and latest use."""

    resource: str
    unit: str
    physical: int
    limit: int
    allocated: int
    in_use: InUse

    @property
    def overcommit(self):
        """The limit over the physical size (each host's ratio, less its reserve, blended)."""
        return round(self.limit / self.physical, 2) if self.physical else None


# (resource, unit, Host's physical size field, prefix of its allocation fields: <prefix>_used, <prefix>_limit)
_ALLOCATION = (
    ("vCPUs", "", "cpus", "vcpus"),
    ("RAM", "MB", "ram_mb", "ram_mb"),
    ("Disk", "GB", "disk_gb", "disk_gb"),
)


def cloud_capacity(hosts, now=None):
    """[CloudResource] of vCPUs, RAM and disk over the hosts that are up among `hosts`."""
    up = hosts.filter(state=Host.UP)
    fields = [
        name for _, _, physical, held in _ALLOCATION for name in (physical, f"{held}_limit", f"{held}_used")
    ]
    totals = up.aggregate(**{f"total_{name}": Sum(name) for name in fields})
    total = {name: totals[f"total_{name}"] or 0 for name in fields}
    samples = list(latest_host_samples(list(up.values_list("pk", flat=True)), now).values())
    added = {name: sum(sample[name] for sample in samples) for name in HOST_RAW.series} if samples else None
    return [
        CloudResource(resource, unit, total[physical], total[f"{held}_limit"], total[f"{held}_used"], in_use)
        for (resource, unit, physical, held), in_use in zip(
            _ALLOCATION, measured(added, total["cpus"]), strict=True
        )
    ]
