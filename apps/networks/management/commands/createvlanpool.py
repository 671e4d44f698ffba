"""VLAN ids for a zone's tenant networks: `createvlanpool --zone Z --physical-network P --range 100-199`."""

from argparse import ArgumentTypeError

from apps.core.management.base import ServiceCommand

from ...services.pools import create_vlan_pool
from ..arguments import zone_named


def vlan_range(text):
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError as exc:
        raise ArgumentTypeError(f"{text!r} is not a VLAN range like 100-199") from exc


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--zone", required=True)
        parser.add_argument("--physical-network", required=True)
        parser.add_argument(
            "--range", dest="vlans", required=True, type=vlan_range, help="FIRST-LAST, like 100-199"
        )

    def run(self, actor, zone, physical_network, vlans, **options):
        first, last = vlans
        pool = create_vlan_pool(
            actor, zone=zone_named(zone), physical_network=physical_network, vlan_min=first, vlan_max=last
        )
        self.stdout.write(
            f"vlan pool {pool.pk}: zone {zone}, {physical_network} {pool.vlan_min}-{pool.vlan_max}"
        )
