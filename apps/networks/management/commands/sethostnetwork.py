"""Set a host's network role and interfaces.

    sethostnetwork HOST [--network-node | --no-network-node] [--map PHYSNET=INTERFACE ...]

--map replaces all of the host's mappings (give every one it keeps). The agent
touches no interface that is not mapped here.
"""

from argparse import ArgumentTypeError

from apps.core.management.base import ServiceCommand

from ...services.host_networks import set_host_network
from ..arguments import host_named


def mapping(text):
    physical_network, equals, interface = text.partition("=")
    if not equals:
        raise ArgumentTypeError(f"{text!r} is not PHYSNET=INTERFACE")
    return physical_network.strip(), interface.strip()


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("host")
        role = parser.add_mutually_exclusive_group()
        role.add_argument("--network-node", dest="network_node", action="store_true", default=None)
        role.add_argument("--no-network-node", dest="network_node", action="store_false")
        parser.add_argument("--map", dest="mappings", action="append", type=mapping, help="PHYSNET=INTERFACE")

    def run(self, actor, host, network_node, mappings, **options):
        host = host_named(host)
        config = set_host_network(
            actor,
            host,
            network_node=network_node,
            physical_networks=dict(mappings) if mappings is not None else None,
        )
        mapped = (
            ", ".join(f"{m.physical_network}={m.interface}" for m in host.physical_networks.all())
            or "nothing"
        )
        self.stdout.write(
            f"host {host.name}: network node {'yes' if config.network_node else 'no'}; {mapped}"
        )
