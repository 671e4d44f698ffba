"""The cloud's state for /metrics, read from PostgreSQL at each scrape: jobs, queues, hosts, allocation,
open alerts and the latest samples.

Every controller answers the same numbers (the database decides, not the
process), so any one of them may be scraped for these; when all are scraped,
`max without(instance)` folds the copies.
"""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from apps.compute.models import Instance
from apps.infrastructure.models import Host
from apps.jobs.models import Job

from .latest import latest_rows
from .models import Alert
from .tables import HOST_RAW, INSTANCE_RAW

HOST_ALLOCATION = [
    ("vcpus_used", "vCPUs held by instances"),
    ("vcpus_limit", "vCPUs that may be held (overcommit included)"),
    ("ram_mb_used", "RAM held by instances, MiB"),
    ("ram_mb_limit", "RAM that may be held, MiB"),
    ("disk_gb_used", "Disk held by instances, GiB"),
    ("disk_gb_limit", "Disk that may be held, GiB"),
]


def _gauge(name, documentation, labels, rows):
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for *label_values, value in rows:
        family.add_metric([str(v) for v in label_values], value)
    return family


class ClusterCollector(Collector):
    def collect(self):
        yield _gauge(
            "cloudmgr_jobs",
            "Jobs by state",
            ["state"],
            Job.objects.values_list("state").annotate(n=Count("id")).order_by(),
        )
        yield _gauge(
            "cloudmgr_job_queue_depth",
            "Jobs waiting to be taken, per queue (controller, or host.<name>)",
            ["queue"],
            Job.objects.filter(state=Job.PENDING).values_list("queue").annotate(n=Count("id")).order_by(),
        )
        hosts = list(Host.objects.values_list("name", "state", *(field for field, _ in HOST_ALLOCATION)))
        states = {state: 0 for state, _ in Host.STATES}
        for host in hosts:
            states[host[1]] += 1
        yield _gauge("cloudmgr_hosts", "Hosts by state", ["state"], states.items())
        yield _gauge(
            "cloudmgr_host_up", "1 when the host is up", ["host"], [(h[0], h[1] == Host.UP) for h in hosts]
        )
        for i, (field, documentation) in enumerate(HOST_ALLOCATION):
            yield _gauge(f"cloudmgr_host_{field}", documentation, ["host"], [(h[0], h[2 + i]) for h in hosts])
        yield _gauge(
            "cloudmgr_alerts_open",
            "Open alerts by kind",
            ["kind"],
            Alert.objects.filter(resolved_at__isnull=True)
            .values_list("kind")
            .annotate(n=Count("id"))
            .order_by(),
        )
        yield from self._latest_samples()

    def _latest_samples(self):
        hosts = latest_rows(HOST_RAW, "h.name", f"JOIN {Host._meta.db_table} h ON h.id = s.host_id")
        for i, name in enumerate(HOST_RAW.series):
            yield _gauge(
                f"cloudmgr_host_sample_{name}",
                f"Latest host sample: {name}",
                ["host"],
                [(r[0], r[1 + i]) for r in hosts],
            )
        instances = latest_rows(
            INSTANCE_RAW,
            "s.instance_id, i.project_id, coalesce(h.name, '')",
            f"JOIN {Instance._meta.db_table} i ON i.id = s.instance_id"
            f" LEFT JOIN {Host._meta.db_table} h ON h.id = i.host_id",
        )
        for i, name in enumerate(INSTANCE_RAW.series):
            yield _gauge(
                f"cloudmgr_instance_sample_{name}",
                f"Latest instance sample: {name}",
                ["instance_id", "project_id", "host"],
                [(r[0], r[1], r[2], r[3 + i]) for r in instances],
            )
