"""What a cloud admin defines per zone: VLAN pools, and public pools for floating IPs and router gateways.

A public pool is an external network (flat or VLAN on a physical network of
the zone) with one subnet, shared with every domain unless limited to some.
Its addresses are IPAM rows like any others.
"""

from django.db import transaction

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.lookup import domain_by_path
from apps.identity.services.common import require

from ..locking import save_or_refuse
from ..models import Network, VlanPool
from ..models.networks import VLAN_MAX, VLAN_MIN
from ..policy_actions import NETWORK_PROVIDER
from .common import checked_physical_network
from .networks import create_network, delete_network
from .subnets import create_subnet


def create_vlan_pool(actor, *, zone, physical_network, vlan_min, vlan_max):
    action = "networks.vlan_pool.create"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "Only cloud administrators define VLAN pools.")
        if not VLAN_MIN <= vlan_min <= vlan_max <= VLAN_MAX:
            raise ValidationFailed(
                f"A VLAN range is {VLAN_MIN}-{VLAN_MAX}, its first id not above its last.",
                code="bad_vlan_range",
            )
        pool = VlanPool(
            zone=zone,
            physical_network=checked_physical_network(physical_network),
            vlan_min=vlan_min,
            vlan_max=vlan_max,
        )
        op.object = pool
        save_or_refuse(
            pool,
            {
                "vlan_pool_no_overlap_in_zone": Conflict(
                    f"VLANs {vlan_min}-{vlan_max} overlap another pool of zone {zone}.",
                    code="vlan_pool_overlaps",
                )
            },
        )
    return pool


def delete_vlan_pool(actor, pool):
    """Networks keep the VLAN ids they took from it; no new network takes one."""
    action = "networks.vlan_pool.delete"
    with audited(actor, action, target=PLATFORM, obj=pool):
        require(actor, action, PLATFORM, "Only cloud administrators delete VLAN pools.")
        pool.delete()


def create_public_pool(
    actor,
    *,
    name,
    zone,
    physical_network,
    cidr,
    gateway_ip,
    network_type=Network.FLAT,
    vlan_id=None,
    allocation_pools=None,
    shared_with=None,
):
    """An external network with its subnet, in one transaction; shared with everyone by default."""
    require(actor, NETWORK_PROVIDER, PLATFORM, "Only cloud administrators define public pools.")
    if network_type not in (Network.FLAT, Network.VLAN):
        raise ValidationFailed("A public pool is flat or vlan.", code="bad_network_type")
    with transaction.atomic():
        network = create_network(
            actor,
            name=name,
            zone=zone,
            project=None,
            network_type=network_type,
            physical_network=physical_network,
            vlan_id=vlan_id,
            external=True,
            shared_with=shared_with if shared_with else [domain_by_path("ROOT")],
        )
        create_subnet(
            actor,
            network,
            cidr=cidr,
            gateway_ip=gateway_ip,
            allocation_pools=allocation_pools,
            enable_dhcp=False,
        )
    return network


def delete_public_pool(actor, network):
    """Refused while floating IPs or router gateways hold its addresses."""
    require(actor, NETWORK_PROVIDER, PLATFORM, "Only cloud administrators delete public pools.")
    delete_network(actor, network)
