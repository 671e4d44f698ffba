"""A host's network configuration: the network-node role and which interface carries each physical network.

A change is refused when something placed on the host still needs what it
takes away: routers and DHCP servers need the role, and every network used
there needs its physical network mapped.
"""

import re

from django.db.models import Q

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.services.common import require

from ..models import HostNetworkConfig, HostPhysicalNetwork, Network
from ..models.hosts import INTERFACE_PATTERN
from .common import checked_physical_network


def _checked_mappings(mappings):
    checked = {}
    for physical_network, interface in dict(mappings).items():
        if not isinstance(interface, str) or not re.match(INTERFACE_PATTERN, interface):
            raise ValidationFailed(f"{interface!r} is not an interface name.", code="bad_interface")
        checked[checked_physical_network(physical_network)] = interface
    return checked


def physical_networks_in_use(host):
    """Physical networks that ports plugged in on the host (instances', routers', DHCP servers', and those of
    instances moving there) are on."""
    used = Network.objects.filter(Q(ports__host=host) | Q(ports__arriving_host=host))
    return set(used.values_list("physical_network", flat=True))


def set_host_network(actor, host, *, network_node=None, physical_networks=None):
    """Set the role and/or replace the mappings ({physical network: interface}); returns the config."""
    action = "networks.host_network.update"
    with audited(actor, action, target=PLATFORM, obj=host) as op:
        require(actor, action, PLATFORM, "Only cloud administrators configure hosts' networks.")
        config, _ = HostNetworkConfig.objects.select_for_update().get_or_create(host=host)
        if network_node is not None:
            if not network_node and (host.routers.exists() or host.dhcp_networks.exists()):
                raise Conflict(f"Host {host} runs routers or DHCP servers.", code="host_network_in_use")
            config.network_node = bool(network_node)
            config.save()
        if physical_networks is not None:
            mappings = _checked_mappings(physical_networks)
            missing = physical_networks_in_use(host) - set(mappings)
            if missing:
                raise Conflict(
                    f"Ports on host {host} use physical network(s) {', '.join(sorted(missing))}.",
                    code="host_network_in_use",
                )
            host.physical_networks.all().delete()
            HostPhysicalNetwork.objects.bulk_create(
                [
                    HostPhysicalNetwork(host=host, physical_network=p, interface=i)
                    for p, i in sorted(mappings.items())
                ]
            )
        op.details = {
            "network_node": config.network_node,
            "physical_networks": dict(host.physical_networks.values_list("physical_network", "interface")),
        }
    return config
