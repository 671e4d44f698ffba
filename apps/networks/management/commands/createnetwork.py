"""Create a network, and its first subnet with --cidr.

    createnetwork NAME --zone Z --type flat|flat_dhcp|vlan --physical-network P [--vlan-id N] [--mtu M]
                  (--project DOMAIN:PROJECT | --shared-with-domain D ... | --shared-with-project D:P)
                  [--cidr C [--gateway G | --no-gateway] [--dns A]... [--pool FIRST-LAST]...
                   [--reserved A]...] [--ipv6-cidr C]

A VLAN network without --vlan-id takes one from the zone's pools.
"""

from django.db import transaction

from apps.core.management.base import ServiceCommand

from ...models import Network
from ...services.networks import create_network
from ...services.subnets import DEFAULT_GATEWAY, create_subnet
from ..arguments import add_sharing, add_subnet, grantees, project_named, zone_named


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--zone", required=True)
        parser.add_argument(
            "--type", dest="network_type", choices=[t for t, _ in Network.TYPES], default=Network.VLAN
        )
        parser.add_argument("--physical-network")
        parser.add_argument("--vlan-id", type=int)
        parser.add_argument("--mtu", type=int, default=1500)
        parser.add_argument("--project", help="DOMAIN_PATH:PROJECT_NAME (default: shared, no project)")
        add_sharing(parser)
        add_subnet(parser, required=False)
        parser.add_argument("--no-gateway", action="store_true")
        parser.add_argument("--dns", action="append", default=[])
        parser.add_argument("--reserved", action="append", default=[])
        parser.add_argument("--ipv6-cidr", help="a SLAAC /64 subnet as well")

    def run(self, actor, name, **options):
        with transaction.atomic():
            network = create_network(
                actor,
                name=name,
                zone=zone_named(options["zone"]),
                project=project_named(options["project"]) if options["project"] else None,
                network_type=options["network_type"],
                physical_network=options["physical_network"],
                vlan_id=options["vlan_id"],
                mtu=options["mtu"],
                shared_with=grantees(options["share_domains"], options["share_projects"]),
            )
            subnets = []
            if options["cidr"]:
                gateway = None if options["no_gateway"] else (options["gateway"] or DEFAULT_GATEWAY)
                subnets.append(
                    create_subnet(
                        actor,
                        network,
                        cidr=options["cidr"],
                        gateway_ip=gateway,
                        dns_nameservers=options["dns"],
                        allocation_pools=options["pools"] or None,
                        reserved_addresses=options["reserved"],
                    )
                )
            if options["ipv6_cidr"]:
                subnets.append(
                    create_subnet(actor, network, cidr=options["ipv6_cidr"], dns_nameservers=options["dns"])
                )
        segment = f" vlan {network.vlan_id}" if network.vlan_id else ""
        kind = f"{network.network_type} on {network.physical_network}{segment}"
        self.stdout.write(f"network {network.name} {network.pk} ({kind})")
        for subnet in subnets:
            self.stdout.write(f"subnet {subnet.cidr} {subnet.pk} gateway {subnet.gateway_ip or 'none'}")
