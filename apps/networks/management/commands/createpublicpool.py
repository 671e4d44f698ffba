"""Create a public pool: the addresses floating IPs and router gateways of a zone take.

    createpublicpool NAME --zone Z --physical-network P --cidr C --gateway G [--pool FIRST-LAST]...
                     [--type flat|vlan [--vlan-id N]] [--shared-with-domain D ...] [--shared-with-project D:P]

Shared with every domain unless limited with --shared-with-*.
"""

from apps.core.management.base import ServiceCommand

from ...models import Network, SubnetAddress
from ...services.pools import create_public_pool
from ..arguments import add_sharing, add_subnet, grantees, zone_named


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--zone", required=True)
        parser.add_argument("--physical-network", required=True)
        parser.add_argument(
            "--type", dest="network_type", choices=[Network.FLAT, Network.VLAN], default=Network.FLAT
        )
        parser.add_argument("--vlan-id", type=int)
        add_subnet(parser, required=True)
        add_sharing(parser)

    def run(self, actor, name, **options):
        network = create_public_pool(
            actor,
            name=name,
            zone=zone_named(options["zone"]),
            physical_network=options["physical_network"],
            network_type=options["network_type"],
            vlan_id=options["vlan_id"],
            cidr=options["cidr"],
            gateway_ip=options["gateway"],
            allocation_pools=options["pools"] or None,
            shared_with=grantees(options["share_domains"], options["share_projects"]),
        )
        count = SubnetAddress.objects.filter(subnet__network=network, in_pool=True).count()
        self.stdout.write(f"public pool {network.name} {network.pk}: {options['cidr']}, {count} addresses")
