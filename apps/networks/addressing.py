"""Address arithmetic with no database: CIDRs, gateways, allocation pools, MACs and SLAAC addresses.

Everything here validates what a user sent and says what is wrong with a
stable code; ipam.py turns the result into rows.
"""

import ipaddress
import itertools
import secrets

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError

from apps.core.errors import ValidationFailed

from .fields import canonical_mac
from .models.networks import IPV6_MIN_MTU

SLAAC_PREFIX_LENGTH = 64
# The shortest IPv4 prefix that still leaves a host besides the gateway (a /30: two hosts).
LONGEST_IPV4_PREFIX = 30


def network_of(cidr):
    try:
        return ipaddress.ip_network(str(cidr).strip(), strict=True)
    except ValueError as exc:
        raise ValidationFailed(
            f"{cidr!r} is not a network in CIDR notation with its host bits zero (like 10.0.0.0/24).",
            code="bad_cidr",
        ) from exc


def address_of(text, what="address"):
    try:
        return ipaddress.ip_address(str(text).strip())
    except ValueError as exc:
        raise ValidationFailed(f"{text!r} is not an IP {what}.", code="bad_ip_address") from exc


def checked_subnet_cidr(cidr, network_mtu):
    """The subnet's network, refused when it cannot hold instances or does not suit SLAAC."""
    net = network_of(cidr)
    if net.version == 4 and net.prefixlen > LONGEST_IPV4_PREFIX:
        raise ValidationFailed(
            f"An IPv4 subnet is at most a /{LONGEST_IPV4_PREFIX}: {net} has no room.", code="subnet_too_small"
        )
    if net.version == 6 and net.prefixlen != SLAAC_PREFIX_LENGTH:
        raise ValidationFailed(
            "An IPv6 subnet is a /64 (SLAAC makes addresses from MACs).", code="bad_ipv6_prefix"
        )
    if net.version == 6 and network_mtu < IPV6_MIN_MTU:
        raise ValidationFailed(
            f"IPv6 needs an MTU of at least {IPV6_MIN_MTU}; this network's is {network_mtu}.",
            code="mtu_too_small",
        )
    if net.is_multicast or net.is_loopback or net.is_link_local or net.is_unspecified:
        raise ValidationFailed(
            f"{net} cannot be a subnet (multicast, loopback or link-local).", code="bad_cidr"
        )
    return net


def _usable(net, address):
    """Not the network's own address, and for IPv4 not its broadcast address."""
    if address == net.network_address:
        return False
    return not (net.version == 4 and address == net.broadcast_address)


def checked_gateway(net, gateway, *, default):
    """The gateway: the one given, none (`None` given explicitly), or the first address by default."""
    if gateway is default:
        return net.network_address + 1
    if gateway is None:
        return None
    address = address_of(gateway, "gateway")
    if address not in net or not _usable(net, address):
        raise ValidationFailed(f"The gateway {address} is not a usable address of {net}.", code="bad_gateway")
    return address


def checked_addresses(net, addresses, what):
    found = []
    for text in addresses or ():
        address = address_of(text, what)
        if address not in net or not _usable(net, address):
            raise ValidationFailed(
                f"{address} is not a usable address of {net}.", code=f"bad_{what.replace(' ', '_')}"
            )
        found.append(address)
    return sorted(set(found))


def checked_pools(net, pools, gateway):
    """[(first, last), ...] sorted; by default the whole subnet but its gateway. IPv6 subnets have none."""
    if net.version == 6:
        if pools:
            raise ValidationFailed(
                "IPv6 subnets have no pools: SLAAC makes each address from the MAC.",
                code="bad_allocation_pool",
            )
        return []
    if not pools:
        return _default_pools(net, gateway)
    ranges = []
    for pool in pools:
        first, last = address_of(pool[0], "pool start"), address_of(pool[1], "pool end")
        if (
            first not in net
            or last not in net
            or first > last
            or not (_usable(net, first) and _usable(net, last))
        ):
            raise ValidationFailed(
                f"The pool {first}-{last} is not a range of usable addresses of {net}.",
                code="bad_allocation_pool",
            )
        if gateway is not None and first <= gateway <= last:
            raise ValidationFailed(
                f"The pool {first}-{last} holds the gateway {gateway}.", code="bad_allocation_pool"
            )
        ranges.append((first, last))
    ranges.sort()
    for (_, previous_last), (first, _) in itertools.pairwise(ranges):
        if first <= previous_last:
            raise ValidationFailed(
                f"The pools overlap at {first}-{previous_last}.", code="bad_allocation_pool"
            )
    return ranges


def _default_pools(net, gateway):
    first, last = net.network_address + 1, net.broadcast_address - 1
    if gateway is None or not first <= gateway <= last:
        return [(first, last)]
    return [(a, b) for a, b in ((first, gateway - 1), (gateway + 1, last)) if a <= b]


def pool_size(pools, reserved):
    inside = sum(1 for r in reserved if any(first <= r <= last for first, last in pools))
    return sum(int(last) - int(first) + 1 for first, last in pools) - inside


def slaac_address(net, mac):
    """The EUI-64 address a guest with this MAC configures in this /64 (RFC 4291, appendix A)."""
    octets = bytes.fromhex(mac.replace(":", ""))
    interface_id = bytes([octets[0] ^ 0x02]) + octets[1:3] + b"\xff\xfe" + octets[3:]
    return net.network_address + int.from_bytes(interface_id, "big")


def mac_prefix():
    """CLOUDMGR_MAC_PREFIX, three bytes that make unicast MACs (checked when the controller starts)."""
    prefix = settings.CLOUDMGR_MAC_PREFIX
    try:
        octets = canonical_mac(prefix + ":00:00:00").split(":")
    except DjangoValidationError as exc:
        raise ImproperlyConfigured(
            f"CLOUDMGR_MAC_PREFIX {prefix!r} is not three bytes like fa:16:3e"
        ) from exc
    if int(octets[0], 16) & 0x01:
        raise ImproperlyConfigured(f"CLOUDMGR_MAC_PREFIX {prefix!r} would make multicast MACs")
    return ":".join(octets[:3])


def random_mac(prefix):
    return prefix + ":" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))


def checked_mac(text):
    """A MAC a caller asked for: unicast and not all zeros."""
    try:
        mac = canonical_mac(text)
    except DjangoValidationError as exc:
        raise ValidationFailed(f"{text!r} is not a MAC address.", code="bad_mac_address") from exc
    if int(mac[:2], 16) & 0x01 or mac == "00:00:00:00:00:00":
        raise ValidationFailed(f"{mac} is a multicast or null MAC.", code="bad_mac_address")
    return mac


def dns_label(name):
    """A guest's DHCP hostname made from its name: lower-case letters, digits and inner '-', at most 63."""
    label = "".join(c if c.isascii() and c.isalnum() else "-" for c in str(name).lower())
    return label[:63].strip("-")
