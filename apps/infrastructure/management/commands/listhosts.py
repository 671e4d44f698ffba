"""List hosts with their state, capacity and allocation against their limits: `listhosts [--zone Z]`."""

from apps.core.management.base import ServiceCommand
from apps.infrastructure.capacity import limits_of
from apps.infrastructure.models import Host

COLUMNS = "{:<24} {:<12} {:<10} {:<14} {:>11} {:>17} {:>13}  {}"


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--zone", help="only the hosts of this zone")

    def run(self, actor, zone, **options):
        hosts = Host.objects.select_related("zone").order_by("zone__name", "name")
        if zone:
            hosts = hosts.filter(zone__name=zone)
        self.stdout.write(
            COLUMNS.format("NAME", "ZONE", "STATE", "FLAGS", "VCPUS", "RAM MB", "DISK GB", "LAST HEARTBEAT")
        )
        for host in hosts:
            limits = limits_of(host)
            self.stdout.write(
                COLUMNS.format(
                    host.name,
                    host.zone.name,
                    host.state,
                    _flags(host),
                    f"{host.vcpus_used}/{limits.vcpus}",
                    f"{host.ram_mb_used}/{limits.ram_mb}",
                    f"{host.disk_gb_used}/{limits.disk_gb}",
                    host.last_heartbeat_at.isoformat(timespec="seconds")
                    if host.last_heartbeat_at
                    else "never",
                )
            )


def _flags(host):
    flags = [] if host.enabled else ["disabled"]
    if host.maintenance:
        flags.append("maintenance")
    if host.isolated:
        flags.append("isolated")
    return ",".join(flags) or "-"
