"""What the host's desired network state means on this host: names, uplinks, MTUs, indexes.

Pure: built from the state, the agent's configuration and two facts read from the
kernel (the uplinks' MTUs, the conntrack zones already given to bridges), so the
renderers that use it are unit-tested without a kernel.
"""

import hashlib
import ipaddress
from dataclasses import dataclass, field

from . import names

MAX_PORTS = 0xFFFF  # a port's index fits in half of the packet mark
MAX_ZONE = 0xFFFF


@dataclass(frozen=True)
class NetworkConfig:
    """The agent's network settings that shape the plan."""

    host: str
    namespace: str = ""
    physical_interfaces: dict = field(default_factory=dict)
    trunk_interface: str = ""
    network_node: bool = False

    def named_interfaces(self):
        """The only pre-existing interfaces the driver may ever touch."""
        return {*self.physical_interfaces.values(), *([self.trunk_interface] if self.trunk_interface else [])}


@dataclass
class NetworkPlan:
    spec: object  # network_protocol.NetworkSpec
    bridge: str
    uplink: str | None  # the device enslaved to the bridge (VLAN sub-interface or physical interface)
    trunk: str | None  # a VLAN uplink's parent
    mtu: int
    zone: int
    metadata_mac: str | None = None  # set when the host serves metadata on this network
    ports: list = field(default_factory=list)

    @property
    def network_id(self):
        return self.spec.network_id


@dataclass
class PortPlan:
    spec: object  # network_protocol.Port
    index: int
    network: NetworkPlan
    ipv4: list
    ipv6: list  # including the link-local address derived from the MAC

    @property
    def device(self):
        return self.spec.device_name

    @property
    def egress_mark(self):
        return self.index << 16

    @property
    def ingress_mark(self):
        return self.index


def link_local_address(mac):
    """The EUI-64 link-local IPv6 address a guest derives from its MAC."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80, *[0] * 6, *eui])))


def metadata_mac(host, network_id):
    """A locally administered unicast MAC for this host's metadata port on one network."""
    digest = hashlib.sha256(f"{host}/{network_id}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


def assign_zones(network_ids, existing):
    """Conntrack zone per network, keeping the ones the kernel already has (live connections)."""
    zones = {nid: zone for nid, zone in existing.items() if nid in network_ids and 0 < zone <= MAX_ZONE}
    free = (z for z in range(1, MAX_ZONE + 1) if z not in set(zones.values()))
    for network_id in sorted(network_ids):
        if network_id not in zones:
            zones[network_id] = next(free)
    return zones


class HostPlan:
    def __init__(self, state, config, uplink_mtus=None, existing_zones=None):
        self.state = state
        self.config = config
        uplink_mtus = uplink_mtus or {}
        zones = assign_zones({n.network_id for n in state.networks}, existing_zones or {})
        self.networks = {}
        for spec in state.networks:
            uplink, trunk, limit = self._uplink(spec, uplink_mtus)
            self.networks[spec.network_id] = NetworkPlan(
                spec=spec,
                bridge=names.bridge(spec.network_id),
                uplink=uplink,
                trunk=trunk,
                mtu=min(spec.mtu, limit) if limit else spec.mtu,
                zone=zones[spec.network_id],
            )
        if len(state.ports) > MAX_PORTS:
            raise ValueError(f"at most {MAX_PORTS} ports per host")
        self.ports = []
        for index, spec in enumerate(sorted(state.ports, key=lambda p: p.device_name), start=1):
            network = self.networks[spec.network_id]
            addresses = [ipaddress.ip_address(f.ip_address) for f in spec.fixed_ips]
            port = PortPlan(
                spec=spec,
                index=index,
                network=network,
                ipv4=sorted(str(a) for a in addresses if a.version == 4),
                ipv6=sorted({link_local_address(spec.mac), *(str(a) for a in addresses if a.version == 6)}),
            )
            network.ports.append(port)
            self.ports.append(port)
        for network in self.networks.values():
            if any(port.ipv4 for port in network.ports):
                network.metadata_mac = metadata_mac(config.host, network.network_id)
        self.security_groups = {g.security_group_id: g for g in state.security_groups}
        self.routers = list(state.routers) if config.network_node else []

    def _uplink(self, spec, uplink_mtus):
        if spec.type == "vlan":
            trunk = self.config.trunk_interface or None
            uplink = names.vlan_interface(spec.vlan_id) if trunk else None
            return uplink, trunk, uplink_mtus.get(trunk)
        interface = self.config.physical_interfaces.get(spec.physical_network)
        return interface, None, uplink_mtus.get(interface)

    def port_for(self, network_id, address):
        """The local port on a network that owns an address (anti-spoofing makes the address proof)."""
        for port in self.networks[network_id].ports if network_id in self.networks else ():
            if address in port.ipv4 or address in port.ipv6:
                return port
        return None

    def metadata_networks(self):
        return [n for n in self.networks.values() if n.metadata_mac]

    def dhcp_networks(self):
        return [n for n in self.networks.values() if n.spec.dhcp_server is not None]
