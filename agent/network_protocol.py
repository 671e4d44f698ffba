"""The network half of the wire contract: a host's desired network state, its report, instance metadata.

The controller serves :class:`NetworkState` at ``protocol.NETWORK_STATE_PATH`` (signed GET:
the signing host's own state only) and :class:`InstanceMetadata` at
``protocol.instance_metadata_path(id)``; the agent POSTs :class:`NetworkReport` to
``protocol.NETWORK_REPORT_PATH``. The network tasks' payloads and result (``SyncNetwork``,
``AuditNetwork``, ``AttachInterface``, ``DetachInterface``, ``NetworkSyncResult``) are at the end,
re-exported by ``agent.protocol``; task names, ``NicSpec`` and ``DriftItem`` are there.

``NetworkState.validate`` checks the whole state for consistency (every reference
resolves, addresses lie in their subnets, no VLAN or device twice): the agent renders
nothing from a state it could not check.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass, field

from .protocol import (
    ATTACH_INTERFACE,
    AUDIT_NETWORK,
    DETACH_INTERFACE,
    PROTOCOL_VERSION,
    SYNC_NETWORK,
    DriftItem,
    InstanceResult,
    InstanceTask,
    Message,
    NicSpec,
    ProtocolError,
    _check,
    is_host_name,
    is_mac,
    is_tap_name,
    is_uuid,
)

# --- The network tasks' error codes (TaskReport.error.code) ----------------------------------------

# The desired network state could not be fetched, or is older than the task asks for.
ERR_NETWORK_STATE_UNAVAILABLE = "network_state_unavailable"
# The host could not be made to match the desired network state (a command failed).
ERR_NETWORK = "network_error"
# A NIC's port is not (yet) in this host's desired network state: no tap is plugged unfiltered.
ERR_PORT_NOT_READY = "port_not_ready"
# The controller did not give the instance's metadata (config drive).
ERR_METADATA_UNAVAILABLE = "metadata_unavailable"

NETWORK_TYPES = ("flat", "flat_dhcp", "vlan")
IPV6_MODES = ("slaac",)
SG_DIRECTIONS = ("ingress", "egress")
ETHERTYPES = ("IPv4", "IPv6")
# Names a rule's protocol may have; any other protocol is its IANA number as a string ("47").
PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132, "dccp": 33, "udplite": 136}
PORT_PROTOCOLS = ("tcp", "udp", "sctp", "dccp", "udplite")
ICMP_PROTOCOLS = ("icmp", "icmpv6")
MAX_USER_DATA_BYTES = 64 * 1024
_NAME_LIMIT = 255


def _is_ip(value, version=None):
    try:
        address = ipaddress.ip_address(value)
    except (TypeError, ValueError):
        return False
    return version is None or address.version == version


def _network(value, where):
    try:
        return ipaddress.ip_network(value)
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"{where}: {value!r} is not a network in CIDR form (host bits clear)") from exc


def _interface(value, where):
    try:
        return ipaddress.ip_interface(value)
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"{where}: {value!r} is not an address with a prefix length") from exc


def _unique(values, what):
    values = list(values)
    _check(len(set(values)) == len(values), f"{what} must be unique")


def protocol_number(name):
    """The IANA number of a rule's protocol ("tcp" -> 6, "47" -> 47); None for "any"."""
    if name == "any":
        return None
    if name in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[name]
    return int(name)


@dataclass(frozen=True)
class Subnet(Message):
    subnet_id: str
    cidr: str
    ip_version: int
    gateway_ip: str | None = None
    dns_nameservers: list[str] = field(default_factory=list)
    dhcp_enabled: bool = True
    # IPv6 only: "slaac" (addresses from router advertisements, EUI-64 of the MAC).
    ipv6_mode: str | None = None

    def validate(self):
        _check(is_uuid(self.subnet_id), "subnet_id must be a lowercase UUID")
        net = _network(self.cidr, "cidr")
        _check(net.version == self.ip_version, "ip_version does not match the cidr")
        _check(net.num_addresses >= 4, "the cidr is too small")
        if self.gateway_ip is not None:
            on_net = _is_ip(self.gateway_ip) and ipaddress.ip_address(self.gateway_ip) in net
            _check(on_net, "the gateway is not in the cidr")
        _check(len(self.dns_nameservers) <= 8, "at most 8 DNS servers")
        _check(all(_is_ip(ns) for ns in self.dns_nameservers), "DNS servers must be IP addresses")
        if self.ip_version == 6:
            _check(self.ipv6_mode in IPV6_MODES, f"an IPv6 subnet needs ipv6_mode in {IPV6_MODES}")
            _check(net.prefixlen == 64, "a SLAAC subnet is a /64")
        else:
            _check(self.ipv6_mode is None, "ipv6_mode is for IPv6 subnets")

    @property
    def network(self):
        return ipaddress.ip_network(self.cidr)


@dataclass(frozen=True)
class FixedIp(Message):
    subnet_id: str
    ip_address: str

    def validate(self):
        _check(is_uuid(self.subnet_id), "subnet_id must be a lowercase UUID")
        _check(_is_ip(self.ip_address), "ip_address must be an IP address")


@dataclass(frozen=True)
class DhcpServer(Message):
    """This host runs the network's DHCP server (and router advertisements) on this port."""

    port_id: str
    mac: str
    fixed_ips: list[FixedIp]

    def validate(self):
        _check(is_uuid(self.port_id), "port_id must be a lowercase UUID")
        _check(is_mac(self.mac), "mac must be a lowercase unicast MAC address")
        _check(bool(self.fixed_ips), "the DHCP server needs an address")


@dataclass(frozen=True)
class DhcpHost(Message):
    """One reservation the network's dnsmasq serves: exactly the controller's assignment."""

    mac: str
    ip_address: str
    hostname: str = ""

    def validate(self):
        _check(is_mac(self.mac), "mac must be a lowercase unicast MAC address")
        _check(_is_ip(self.ip_address, 4), "a DHCP reservation is an IPv4 address")
        _check(
            len(self.hostname) <= 63 and all(c.isalnum() or c == "-" for c in self.hostname),
            "hostname must be a DNS label",
        )


@dataclass(frozen=True)
class NetworkSpec(Message):
    network_id: str
    type: str
    physical_network: str
    mtu: int = 1500
    vlan_id: int | None = None
    subnets: list[Subnet] = field(default_factory=list)
    # Present when this host serves DHCP for the network.
    dhcp_server: DhcpServer | None = None
    dhcp_hosts: list[DhcpHost] = field(default_factory=list)

    def validate(self):
        _check(is_uuid(self.network_id), "network_id must be a lowercase UUID")
        _check(self.type in NETWORK_TYPES, f"type must be one of {NETWORK_TYPES}")
        _check(0 < len(self.physical_network) <= 64, "physical_network is required")
        _check(self.physical_network.replace("-", "").replace("_", "").isalnum(), "bad physical_network")
        _check(1280 <= self.mtu <= 9216, "mtu out of range")
        if self.type == "vlan":
            _check(self.vlan_id is not None and 1 <= self.vlan_id <= 4094, "a VLAN network needs vlan_id")
        else:
            _check(self.vlan_id is None, "only VLAN networks have a vlan_id")
        _check(self.type != "flat" or self.dhcp_server is None, "a flat network has no DHCP server")
        _unique((s.subnet_id for s in self.subnets), "subnet ids")
        _check(sum(s.ip_version == 4 for s in self.subnets) <= 1, "at most one IPv4 subnet per network")
        _check(sum(s.ip_version == 6 for s in self.subnets) <= 1, "at most one IPv6 subnet per network")
        _unique((h.mac for h in self.dhcp_hosts), "DHCP reservation MACs")
        _unique((h.ip_address for h in self.dhcp_hosts), "DHCP reservation addresses")
        v4 = self.subnet(4)
        for host in self.dhcp_hosts:
            on_net = v4 is not None and ipaddress.ip_address(host.ip_address) in v4.network
            _check(on_net, "a DHCP reservation is off the IPv4 subnet")
        if self.dhcp_server is not None:
            self.check_fixed_ips(self.dhcp_server.fixed_ips, "the DHCP server")

    def subnet(self, ip_version):
        return next((s for s in self.subnets if s.ip_version == ip_version), None)

    def check_fixed_ips(self, fixed_ips, what):
        subnets = {s.subnet_id: s for s in self.subnets}
        for fixed in fixed_ips:
            subnet = subnets.get(fixed.subnet_id)
            _check(subnet is not None, f"{what}: subnet {fixed.subnet_id} is not on the network")
            on_net = ipaddress.ip_address(fixed.ip_address) in subnet.network
            _check(on_net, f"{what}: {fixed.ip_address} is not in its subnet")


@dataclass(frozen=True)
class Port(Message):
    """A guest NIC on this host."""

    port_id: str
    instance_id: str
    network_id: str
    mac: str
    device_name: str
    fixed_ips: list[FixedIp] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    # Floating (public) IPv4 addresses mapped to this port, for the instance's metadata.
    floating_ips: list[str] = field(default_factory=list)

    def validate(self):
        _check(is_uuid(self.port_id) and is_uuid(self.instance_id), "port_id/instance_id must be UUIDs")
        _check(is_uuid(self.network_id), "network_id must be a lowercase UUID")
        _check(is_mac(self.mac), "mac must be a lowercase unicast MAC address")
        _check(is_tap_name(self.device_name), "device_name must be 'tap' and up to 11 [0-9a-z-]")
        _check(all(is_uuid(g) for g in self.security_group_ids), "security group ids must be UUIDs")
        _unique(self.security_group_ids, "a port's security groups")
        _check(all(_is_ip(ip, 4) for ip in self.floating_ips), "floating IPs are IPv4 addresses")


@dataclass(frozen=True)
class SecurityGroupRule(Message):
    """One allow rule. ``protocol``: "any", a name of PROTOCOL_NUMBERS or an IANA number ("47").

    The remote is ``remote_ip_prefix`` (a CIDR), ``remote_group_id`` (the group's member
    addresses) or neither (anywhere). Ports only with tcp/udp/sctp/dccp/udplite; ICMP type
    and code only with icmp/icmpv6 (a code needs a type).
    """

    rule_id: str
    direction: str
    ethertype: str
    protocol: str = "any"
    port_range_min: int | None = None
    port_range_max: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    remote_ip_prefix: str | None = None
    remote_group_id: str | None = None

    def validate(self):
        _check(is_uuid(self.rule_id), "rule_id must be a lowercase UUID")
        _check(self.direction in SG_DIRECTIONS, f"direction must be one of {SG_DIRECTIONS}")
        _check(self.ethertype in ETHERTYPES, f"ethertype must be one of {ETHERTYPES}")
        known = self.protocol == "any" or self.protocol in PROTOCOL_NUMBERS
        _check(known or (self.protocol.isdigit() and 0 <= int(self.protocol) <= 255), "unknown protocol")
        if self.protocol in ICMP_PROTOCOLS:
            wanted = "icmp" if self.ethertype == "IPv4" else "icmpv6"
            _check(self.protocol == wanted, f"{self.ethertype} rules use {wanted}")
        has_ports = self.port_range_min is not None or self.port_range_max is not None
        if has_ports:
            _check(self.protocol in PORT_PROTOCOLS, "port ranges need tcp, udp, sctp, dccp or udplite")
            low, high = self.port_range_min, self.port_range_max
            _check(low is not None and high is not None and 1 <= low <= high <= 65535, "bad port range")
        has_icmp = self.icmp_type is not None or self.icmp_code is not None
        if has_icmp:
            _check(self.protocol in ICMP_PROTOCOLS, "ICMP type/code need icmp or icmpv6")
            _check(self.icmp_type is not None and 0 <= self.icmp_type <= 255, "bad ICMP type")
            _check(self.icmp_code is None or 0 <= self.icmp_code <= 255, "bad ICMP code")
        _check(self.remote_ip_prefix is None or self.remote_group_id is None, "one remote at most")
        if self.remote_ip_prefix is not None:
            net = _network(self.remote_ip_prefix, "remote_ip_prefix")
            _check(net.version == (4 if self.ethertype == "IPv4" else 6), "remote_ip_prefix vs ethertype")
        _check(self.remote_group_id is None or is_uuid(self.remote_group_id), "bad remote_group_id")


@dataclass(frozen=True)
class SecurityGroup(Message):
    """A group a local port is in, or one a rule names as its remote.

    ``member_ips``: the fixed addresses of every port in the group, cloud-wide (what
    rules naming this group as remote match).
    """

    security_group_id: str
    name: str = ""
    rules: list[SecurityGroupRule] = field(default_factory=list)
    member_ips: list[str] = field(default_factory=list)

    def validate(self):
        _check(is_uuid(self.security_group_id), "security_group_id must be a lowercase UUID")
        _check(len(self.name) <= _NAME_LIMIT, "name too long")
        _unique((r.rule_id for r in self.rules), "rule ids")
        _check(all(_is_ip(ip) for ip in self.member_ips), "member_ips must be IP addresses")


@dataclass(frozen=True)
class RouterInterface(Message):
    """The router's leg on an internal network: the subnet's gateway address(es)."""

    port_id: str
    network_id: str
    mac: str
    # Addresses with their prefix length, "10.0.0.1/24".
    ip_addresses: list[str]

    def validate(self):
        _check(is_uuid(self.port_id) and is_uuid(self.network_id), "port_id/network_id must be UUIDs")
        _check(is_mac(self.mac), "mac must be a lowercase unicast MAC address")
        _check(bool(self.ip_addresses), "a router interface needs an address")
        for value in self.ip_addresses:
            _interface(value, "ip_addresses")


@dataclass(frozen=True)
class ExternalGateway(Message):
    """The router's leg on the public network."""

    port_id: str
    network_id: str
    mac: str
    ip_address: str  # "203.0.113.10/24"
    gateway_ip: str | None = None
    snat: bool = True

    def validate(self):
        _check(is_uuid(self.port_id) and is_uuid(self.network_id), "port_id/network_id must be UUIDs")
        _check(is_mac(self.mac), "mac must be a lowercase unicast MAC address")
        address = _interface(self.ip_address, "ip_address")
        _check(address.version == 4, "the external address is IPv4")
        if self.gateway_ip is not None:
            _check(_is_ip(self.gateway_ip, 4), "gateway_ip must be an IPv4 address")
            _check(ipaddress.ip_address(self.gateway_ip) in address.network, "gateway off the public subnet")


@dataclass(frozen=True)
class FloatingIp(Message):
    floating_ip: str
    fixed_ip: str

    def validate(self):
        _check(_is_ip(self.floating_ip, 4) and _is_ip(self.fixed_ip, 4), "floating and fixed are IPv4")


@dataclass(frozen=True)
class Router(Message):
    """A project router hosted here (network nodes only): SNAT out, DNAT for floating IPs."""

    router_id: str
    interfaces: list[RouterInterface] = field(default_factory=list)
    external_gateway: ExternalGateway | None = None
    floating_ips: list[FloatingIp] = field(default_factory=list)

    def validate(self):
        _check(is_uuid(self.router_id), "router_id must be a lowercase UUID")
        _unique((i.network_id for i in self.interfaces), "a router's networks")
        _unique((f.floating_ip for f in self.floating_ips), "floating IPs")
        _unique((f.fixed_ip for f in self.floating_ips), "the fixed IPs of floating IPs")
        _check(not self.floating_ips or self.external_gateway is not None, "floating IPs need a gateway")


@dataclass(frozen=True)
class NetworkState(Message):
    """Everything one host must realize. ``generation`` grows with every change the controller makes."""

    protocol_version: int
    host: str
    generation: int
    networks: list[NetworkSpec] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
    security_groups: list[SecurityGroup] = field(default_factory=list)
    routers: list[Router] = field(default_factory=list)

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")
        _check(self.generation >= 0, "generation must be >= 0")
        networks = {n.network_id: n for n in self.networks}
        _check(len(networks) == len(self.networks), "network ids must be unique")
        vlans = [n.vlan_id for n in self.networks if n.type == "vlan"]
        _unique(vlans, "VLAN ids on one host")
        flats = [n.physical_network for n in self.networks if n.type != "vlan"]
        _unique(flats, "flat physical networks (one flat network per physical network)")
        groups = {g.security_group_id for g in self.security_groups}
        _check(len(groups) == len(self.security_groups), "security group ids must be unique")
        self._check_ports(networks, groups)
        for group in self.security_groups:
            for rule in group.rules:
                _check(rule.remote_group_id is None or rule.remote_group_id in groups, "unknown remote group")
        _unique((r.router_id for r in self.routers), "router ids")
        for router in self.routers:
            legs = [*router.interfaces, *([router.external_gateway] if router.external_gateway else [])]
            for leg in legs:
                _check(leg.network_id in networks, f"router {router.router_id}: unknown network")
        _unique((leg.mac for r in self.routers for leg in r.interfaces), "router interface MACs")

    def _check_ports(self, networks, groups):
        _unique((p.port_id for p in self.ports), "port ids")
        _unique((p.device_name for p in self.ports), "port device names")
        for port in self.ports:
            network = networks.get(port.network_id)
            _check(network is not None, f"port {port.port_id}: unknown network")
            network.check_fixed_ips(port.fixed_ips, f"port {port.port_id}")
            _check(set(port.security_group_ids) <= groups, f"port {port.port_id}: unknown security group")
        for network in self.networks:
            macs = [p.mac for p in self.ports if p.network_id == network.network_id]
            _unique(macs, f"MACs on network {network.network_id}")

    def network(self, network_id):
        return next((n for n in self.networks if n.network_id == network_id), None)

    def port(self, port_id):
        return next((p for p in self.ports if p.port_id == port_id), None)


def empty_state(host):
    """What a host with no networks wants (before the controller ever answered)."""
    return NetworkState(protocol_version=PROTOCOL_VERSION, host=host, generation=0)


@dataclass(frozen=True)
class PublicKey(Message):
    name: str
    key: str  # one OpenSSH public key line

    def validate(self):
        _check(len(self.name) <= _NAME_LIMIT, "name too long")
        _check(0 < len(self.key) <= 16384 and "\n" not in self.key, "key must be one line")


@dataclass(frozen=True)
class InstanceMetadata(Message):
    """What the controller tells a host about one of its instances: the source of both the
    metadata service's answers and the config drive (the network part comes from the state)."""

    instance_id: str
    name: str
    hostname: str
    project_id: str
    availability_zone: str = ""
    offering: str = ""
    image_id: str | None = None
    launched_at: int = 0
    public_keys: list[PublicKey] = field(default_factory=list)
    user_data_b64: str | None = None

    def validate(self):
        _check(is_uuid(self.instance_id) and is_uuid(self.project_id), "ids must be lowercase UUIDs")
        _check(len(self.name) <= _NAME_LIMIT and len(self.hostname) <= 63, "name or hostname too long")
        _check(self.image_id is None or is_uuid(self.image_id), "image_id must be a lowercase UUID")
        if self.user_data_b64 is not None:
            _check(len(self.user_data()) <= MAX_USER_DATA_BYTES, "user data over 64 KiB")

    def user_data(self):
        if self.user_data_b64 is None:
            return None
        try:
            return base64.b64decode(self.user_data_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError("user_data_b64 is not base64") from exc


@dataclass(frozen=True)
class ObservedDevice(Message):
    """A device in the host's network namespace that cloudmgr made or was told to use."""

    name: str
    kind: str  # bridge, vlan, veth, tun, physical, ...
    up: bool
    mtu: int
    master: str | None = None
    parent: str | None = None
    vlan_id: int | None = None


@dataclass(frozen=True)
class ObservedDhcpServer(Message):
    network_id: str
    running: bool
    pid: int = 0
    hosts: list[DhcpHost] = field(default_factory=list)


@dataclass(frozen=True)
class ObservedTable(Message):
    """An nftables table cloudmgr owns, as the kernel lists it (stateless listing)."""

    namespace: str
    family: str
    name: str
    rules: int
    sha256: str


@dataclass(frozen=True)
class ObservedRouter(Message):
    router_id: str
    addresses: list[str] = field(default_factory=list)
    floating_ips: list[FloatingIp] = field(default_factory=list)
    snat: bool = False


@dataclass(frozen=True)
class ObservedNetworkState(Message):
    devices: list[ObservedDevice] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    dhcp_servers: list[ObservedDhcpServer] = field(default_factory=list)
    tables: list[ObservedTable] = field(default_factory=list)
    routers: list[ObservedRouter] = field(default_factory=list)
    # Networks whose metadata service answers on this host.
    metadata_networks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NetworkReport(Message):
    """POSTed to NETWORK_REPORT_PATH on agent start, after every audit and every sync."""

    protocol_version: int
    host: str
    sent_at: int
    # The desired state's generation the observation was compared with.
    generation: int
    observed: ObservedNetworkState
    drift: list[DriftItem] = field(default_factory=list)
    # True when the host compared all of its network (a sync or an audit): what it did not find is gone;
    # False for what it did between audits (a daemon it restarted).
    complete: bool = True

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")


# --- The network tasks (re-exported by agent.protocol, whose task tables hold them) ----------------


@dataclass(frozen=True)
class SyncNetwork(Message):
    """Pull the host's desired network state (NETWORK_STATE_PATH) and apply it.

    ``generation`` is the least generation to reach: a state older than it is fetched
    again until the task's deadline (the controller may still be committing it).
    """

    generation: int

    def validate(self):
        _check(self.generation >= 0, "generation must be >= 0")


@dataclass(frozen=True)
class AuditNetwork(Message):
    """Compare the host's real network state with the desired one; repair when ``repair``.

    The agent also POSTs a NetworkReport (observed state and drift) to NETWORK_REPORT_PATH.
    """

    repair: bool = True


@dataclass(frozen=True)
class AttachInterface(InstanceTask):
    """Hot-plug one NIC (its port must be in the host's desired network state)."""

    nic: NicSpec | None = None

    def validate(self):
        super().validate()
        _check(self.nic is not None, "nic is required")


@dataclass(frozen=True)
class DetachInterface(InstanceTask):
    """Unplug the NIC of ``port_id`` (with ``mac``); detaching one that is not there succeeds."""

    port_id: str = ""
    mac: str = ""

    def validate(self):
        super().validate()
        _check(is_uuid(self.port_id), "port_id must be a lowercase UUID")
        _check(is_mac(self.mac), "mac must be a lowercase unicast MAC address")


@dataclass(frozen=True)
class NetworkSyncResult(Message):
    """Result of sync_network and audit_network: the generation compared with, and what differed."""

    generation: int
    drift: list[DriftItem] = field(default_factory=list)


NETWORK_TASK_PAYLOADS = {
    SYNC_NETWORK: SyncNetwork,
    AUDIT_NETWORK: AuditNetwork,
    ATTACH_INTERFACE: AttachInterface,
    DETACH_INTERFACE: DetachInterface,
}
NETWORK_TASK_RESULTS = {
    SYNC_NETWORK: NetworkSyncResult,
    AUDIT_NETWORK: NetworkSyncResult,
    ATTACH_INTERFACE: InstanceResult,
    DETACH_INTERFACE: InstanceResult,
}
