"""Subnets: create one on a network (its pool addresses become free IPAM rows), rename, delete.

Overlapping CIDRs are refused within a network by an exclusion constraint and
allowed across networks, which are isolated from each other. A subnet on a
network with DHCP gives the network's DHCP server an address in it.
"""

from django.conf import settings

from apps.audit.recorder import audited
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.identity.services.common import lock_for_delete, require
from apps.quotas import services as quotas

from .. import fanout, ipam
from ..addressing import (
    address_of,
    checked_addresses,
    checked_gateway,
    checked_pools,
    checked_subnet_cidr,
    pool_size,
)
from ..host_work import sync_hosts
from ..locking import for_key_share, save_or_refuse
from ..models import Network, Port, Subnet, SubnetAddress
from . import port_records
from .common import checked_name

MAX_DNS_SERVERS = 5
DEFAULT_GATEWAY = object()


def _locked_network(network):
    found = for_key_share(Network.objects.filter(pk=network.pk))
    if not found:
        raise NotFound("No such network.")
    return found[0]


def _checked_dns(servers):
    servers = list(servers or ())
    if len(servers) > MAX_DNS_SERVERS:
        raise ValidationFailed(
            f"A subnet has at most {MAX_DNS_SERVERS} DNS servers.", code="too_many_dns_servers"
        )
    return [str(address_of(s, "DNS server")) for s in servers]


def create_subnet(
    actor,
    network,
    *,
    cidr,
    name="",
    gateway_ip=DEFAULT_GATEWAY,
    dns_nameservers=(),
    allocation_pools=None,
    reserved_addresses=(),
    ipv6_mode=None,
    enable_dhcp=None,
):
    action = "networks.subnet.create"
    with audited(actor, action, target=network.target()) as op:
        require(actor, action, network.target(), "You may not add subnets to this network.")
        network = _locked_network(network)
        net = checked_subnet_cidr(cidr, network.mtu)
        gateway = checked_gateway(net, gateway_ip, default=DEFAULT_GATEWAY)
        reserved = checked_addresses(net, reserved_addresses, "reserved address")
        pools = checked_pools(net, allocation_pools, gateway)
        if net.version == 4 and pool_size(pools, reserved) > settings.CLOUDMGR_SUBNET_MAX_POOL_ADDRESSES:
            raise ValidationFailed(
                f"A subnet's pools hold at most {settings.CLOUDMGR_SUBNET_MAX_POOL_ADDRESSES} addresses;"
                " give smaller allocation pools.",
                code="pool_too_large",
            )
        if enable_dhcp and not network.has_dhcp:
            raise ValidationFailed(
                f"Network {network} is {network.network_type}: it has no DHCP.", code="network_has_no_dhcp"
            )
        if net.version == 4 and ipv6_mode is not None:
            raise ValidationFailed("ipv6_mode is for IPv6 subnets.", code="bad_ipv6_mode")
        if net.version == 6 and ipv6_mode not in (None, *dict(Subnet.IPV6_MODES)):
            raise ValidationFailed(
                f"ipv6_mode is one of {', '.join(dict(Subnet.IPV6_MODES))}.", code="bad_ipv6_mode"
            )
        subnet = Subnet(
            network=network,
            name=checked_name(name, "subnet", required=False),
            ip_version=net.version,
            cidr=str(net),
            gateway_ip=str(gateway) if gateway is not None else None,
            dns_nameservers=_checked_dns(dns_nameservers),
            allocation_pools=[[str(first), str(last)] for first, last in pools],
            reserved_addresses=[str(r) for r in reserved],
            ipv6_mode=(ipv6_mode or Subnet.SLAAC) if net.version == 6 else None,
            enable_dhcp=network.has_dhcp if enable_dhcp is None else bool(enable_dhcp),
        )
        op.object = subnet
        overlapping = network.subnets.filter(cidr__net_overlaps=str(net)).first()
        overlap = Conflict(
            f"{net} overlaps subnet {overlapping or 'of this network'} of network {network}.",
            code="subnet_overlaps",
            details={"subnet_id": str(overlapping.pk) if overlapping else None},
        )
        if overlapping is not None:
            raise overlap
        version_taken = Conflict(
            f"Network {network} already has an IPv{net.version} subnet.", code="subnet_version_taken"
        )
        if network.subnets.filter(ip_version=net.version).exists():
            raise version_taken
        save_or_refuse(
            subnet, {"subnet_no_overlap_in_network": overlap, "subnet_one_per_ip_version": version_taken}
        )
        ipam.populate(subnet, pools, reserved)
        op.details = {"cidr": subnet.cidr, "pool_addresses": pool_size(pools, reserved) if pools else None}
        if subnet.enable_dhcp:
            for dhcp_port in network.ports.filter(device_owner=Port.DHCP):
                port_records.assign_addresses(dhcp_port, network, [subnet], [{"subnet_id": subnet.pk}])
        sync_hosts(fanout.hosts_for_network(network.pk))
        if network.project_id is not None:
            quotas.claim(network.project, {"subnets": 1}, subnet)
    return subnet


def update_subnet(actor, subnet, *, name=None, dns_nameservers=None):
    action = "networks.subnet.update"
    with audited(actor, action, target=subnet.target(), obj=subnet):
        require(actor, action, subnet.target(), "You may not change this subnet.")
        if name is not None:
            subnet.name = checked_name(name, "subnet", required=False)
        if dns_nameservers is not None:
            subnet.dns_nameservers = _checked_dns(dns_nameservers)
            sync_hosts(fanout.hosts_for_network(subnet.network_id))
        subnet.save(update_fields=["name", "dns_nameservers"])
    return subnet


def delete_subnet(actor, subnet):
    """Delete a subnet no port but the DHCP server's has an address in."""
    action = "networks.subnet.delete"
    with audited(actor, action, target=subnet.target(), obj=subnet):
        require(actor, action, subnet.target(), "You may not delete this subnet.")
        lock_for_delete(subnet)
        held = SubnetAddress.objects.filter(subnet=subnet, port__isnull=False).exclude(
            port__device_owner=Port.DHCP
        )
        if held.exists():
            raise Conflict(f"Subnet {subnet} still has addresses given to ports.", code="subnet_in_use")
        quotas.release(subnet)
        sync_hosts(fanout.hosts_for_network(subnet.network_id))
        subnet.delete()
