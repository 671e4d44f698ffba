"""The names of everything the network driver creates, derived from ids only.

Linux device names have at most 15 characters: the first 11 hex digits of an id
(neutron's convention) follow a 4-character prefix that says what the device is.
Namespace names carry the host's own namespace as a prefix, so that two agents on
one machine (tests) never share one.
"""

import re

from ..protocol import is_uuid

BRIDGE_PREFIX = "cmb-"
VLAN_PREFIX = "cmv-"  # a VLAN network's bridge port (veth); its peer is VLAN_ACCESS_PREFIX<vid>
VLAN_ACCESS_PREFIX = "cmq-"
DHCP_VETH_PREFIX = "cmd-"
METADATA_VETH_PREFIX = "cmm-"
ROUTER_VETH_PREFIX = "cmr-"
DEVICE_PREFIXES = (
    BRIDGE_PREFIX,
    VLAN_PREFIX,
    VLAN_ACCESS_PREFIX,
    DHCP_VETH_PREFIX,
    METADATA_VETH_PREFIX,
    ROUTER_VETH_PREFIX,
)
# Inside the DHCP and metadata namespaces.
DHCP_DEVICE = "ns-dhcp"
METADATA_DEVICE = "ns-meta"
METADATA_ADDRESS = "169.254.169.254"
# nftables tables cloudmgr owns (in the host's namespace, and in each router namespace).
FILTER_TABLE = "cloudmgr"
NAT_TABLE = "cloudmgr_nat"
NAMESPACE_KINDS = ("dhcp", "meta", "router")


def short_id(value):
    return value.replace("-", "")[:11]


def bridge(network_id):
    return BRIDGE_PREFIX + short_id(network_id)


def vlan_interface(vlan_id):
    return f"{VLAN_PREFIX}{vlan_id}"


def dhcp_veth(network_id):
    return DHCP_VETH_PREFIX + short_id(network_id)


def metadata_veth(network_id):
    return METADATA_VETH_PREFIX + short_id(network_id)


def router_veth(port_id):
    """The host end of a router leg (internal or external), on the leg's network bridge."""
    return ROUTER_VETH_PREFIX + short_id(port_id)


def router_internal_device(port_id):
    return "qr-" + short_id(port_id)


def router_external_device(port_id):
    return "qg-" + short_id(port_id)


class Namespaces:
    """Namespace names for one host: ``[<host namespace>-]cm-<kind>-<id>``."""

    def __init__(self, host_namespace):
        self.prefix = f"{host_namespace}-" if host_namespace else ""
        self._pattern = re.compile(rf"^{re.escape(self.prefix)}cm-({'|'.join(NAMESPACE_KINDS)})-(.+)$")

    def name(self, kind, object_id):
        return f"{self.prefix}cm-{kind}-{object_id}"

    def dhcp(self, network_id):
        return self.name("dhcp", network_id)

    def metadata(self, network_id):
        return self.name("meta", network_id)

    def router(self, router_id):
        return self.name("router", router_id)

    def parse(self, name):
        """(kind, id) of one of this host's namespaces, or None for any other name."""
        match = self._pattern.match(name)
        if match is None or not is_uuid(match.group(2)):
            return None
        return match.group(1), match.group(2)
