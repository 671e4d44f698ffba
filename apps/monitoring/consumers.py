"""Top consumers: the instances a person may see that used the most CPU, network and disk lately.

Averages over the last TOP_WINDOW_SECONDS of raw samples, ranked three ways in
one statement; only instances of the person's instance selector are ranked, so
a domain admin ranks its own subtree's and learns nothing of the others'.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from apps.compute import states
from apps.compute.selectors import instances_for

from .tables import INSTANCE_RAW

TOP_WINDOW_SECONDS = 900
TOP_COUNT = 10

# ranking -> (what it measures, the SQL of the average ranked)
RANKINGS = {
    "cpu": ("CPU", "avg(s.cpu_millicores)"),
    "network": ("network", "avg(s.net_rx_bytes_per_s + s.net_tx_bytes_per_s)"),
    "disk": ("disk I/O", "avg(s.disk_read_bytes_per_s + s.disk_write_bytes_per_s)"),
}


@dataclass(frozen=True)
class Consumer:
    instance: object
    cpu_millicores: int
    network_bytes_per_s: int
    disk_bytes_per_s: int

    @property
    def cpu_percent(self):
        """Of the instance's own vCPUs."""
        return round(self.cpu_millicores / (10 * self.instance.vcpus), 1) if self.instance.vcpus else None


def _ranked_sql(visible_sql):
    averages = ", ".join(f"{average} AS {name}" for name, (_, average) in RANKINGS.items())
    ranks = ", ".join(f"row_number() OVER (ORDER BY {name} DESC) AS {name}_rank" for name in RANKINGS)
    first = " OR ".join(f"{name}_rank <= %s" for name in RANKINGS)
    return (
        f"WITH recent AS (SELECT s.instance_id, {averages} FROM {INSTANCE_RAW.name} s"  # noqa: S608 (names from this module and tables.py, values bound)
        f" WHERE s.at >= %s AND s.instance_id IN ({visible_sql}) GROUP BY s.instance_id),"
        f" ranked AS (SELECT *, {ranks} FROM recent)"
        f" SELECT instance_id, {', '.join(RANKINGS)}, {', '.join(f'{n}_rank' for n in RANKINGS)}"
        f" FROM ranked WHERE {first}"
    )


def top_consumers(principal, now=None, count=TOP_COUNT):
    """{ranking: [Consumer], most first} over the instances `principal` may see."""
    visible = instances_for(principal).exclude(vm_state=states.DELETED).values("pk")
    visible_sql, visible_parameters = visible.query.sql_with_params()
    since = (now or timezone.now()) - timedelta(seconds=TOP_WINDOW_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(_ranked_sql(visible_sql), [since, *visible_parameters, *([count] * len(RANKINGS))])
        rows = cursor.fetchall()
    instances = (
        instances_for(principal).select_related("project__domain", "host").in_bulk([r[0] for r in rows])
    )
    tops = {name: [] for name in RANKINGS}
    width = len(RANKINGS)
    for row in rows:
        if row[0] not in instances:
            continue  # deleted since the ranking
        consumer = Consumer(instances[row[0]], *(round(value) for value in row[1 : 1 + width]))
        for name, rank in zip(RANKINGS, row[1 + width :], strict=True):
            if rank <= count:
                tops[name].append((rank, consumer))
    return {
        name: [consumer for _, consumer in sorted(ranked, key=lambda r: r[0])]
        for name, ranked in tops.items()
    }
