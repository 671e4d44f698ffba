"""Networks: create (with their VLAN and DHCP server placed), rename, share, delete.

A tenant creates VLAN networks in its project: the VLAN id and its physical
network come from the zone's pools. A cloud admin also creates flat and
flat-DHCP networks on a named physical network, VLAN networks on a chosen id,
networks shared with domains and projects, and external networks (public
pools, apps/networks/services/pools.py). A network with DHCP gets its DHCP
server's port, on a network node of the zone, at once.
"""

from django.db import IntegrityError, transaction

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.services.common import lock_for_delete, require
from apps.quotas import services as quotas

from .. import fanout, placement, usage, vlans
from ..host_work import sync_hosts
from ..locking import save_or_refuse, violated_constraint
from ..models import FloatingIP, Network, NetworkAccess, Port, Subnet
from ..models.networks import MTU_MAX, MTU_MIN
from ..policy_actions import NETWORK_PROVIDER
from . import port_records
from .common import checked_name, checked_physical_network

DEFAULT_MTU = 1500
# Concurrent creates may pick the same free VLAN id; the constraint lets one win, the others pick again.
VLAN_ATTEMPTS = 5


def _checked_type(network_type):
    if network_type not in dict(Network.TYPES):
        raise ValidationFailed(
            f"A network's type is one of {', '.join(dict(Network.TYPES))}.", code="bad_network_type"
        )
    return network_type


def _checked_mtu(mtu):
    if not isinstance(mtu, int) or not MTU_MIN <= mtu <= MTU_MAX:
        raise ValidationFailed(f"The MTU is {MTU_MIN}-{MTU_MAX}.", code="bad_mtu")
    return mtu


def is_provider_request(*, project, network_type, physical_network, vlan_id, external, shared_with):
    """Whether the create asks for more than a project's VLAN network from the pools."""
    return (
        project is None
        or network_type != Network.VLAN
        or physical_network is not None
        or vlan_id is not None
        or external
        or bool(shared_with)
    )


def create_network(
    actor,
    *,
    name,
    zone,
    project=None,
    network_type=Network.VLAN,
    physical_network=None,
    vlan_id=None,
    mtu=DEFAULT_MTU,
    external=False,
    description="",
    shared_with=(),
):
    """A network of `project` (None: shared, usable by `shared_with`, domains and projects)."""
    action = "networks.network.create"
    target = project.target() if project is not None else PLATFORM
    with audited(actor, action, target=target) as op:
        require(actor, action, target, "You may not create networks here.")
        provider = is_provider_request(
            project=project,
            network_type=network_type,
            physical_network=physical_network,
            vlan_id=vlan_id,
            external=external,
            shared_with=shared_with,
        )
        if provider:
            require(
                actor,
                NETWORK_PROVIDER,
                PLATFORM,
                "Only cloud administrators choose a network's type, physical network or VLAN, or share it.",
            )
        if project is not None and (external or shared_with):
            raise ValidationFailed(
                "Public pools and shared networks belong to no project.", code="network_not_shared"
            )
        if external and network_type == Network.FLAT_DHCP:
            raise ValidationFailed(
                "A public pool serves no DHCP: make it flat or vlan.", code="bad_network_type"
            )
        network = Network(
            name=checked_name(name, "network"),
            description=(description or "")[:255],
            project=project,
            zone=zone,
            network_type=_checked_type(network_type),
            mtu=_checked_mtu(mtu),
            external=external,
        )
        op.object = network
        _segment_and_save(network, physical_network, vlan_id)
        usage.network_created(network)
        op.details = {
            "type": network.network_type,
            "physical_network": network.physical_network,
            "vlan_id": network.vlan_id,
        }
        NetworkAccess.objects.bulk_create([_access(network, grantee) for grantee in shared_with])
        if network.dhcp_host_id is not None:
            port_records.insert(
                Port(network=network, device_owner=Port.DHCP, host=network.dhcp_host, name="dhcp")
            )
            sync_hosts({network.dhcp_host_id})
        if project is not None:
            quotas.claim(project, {"networks": 1}, network)
    return network


def _access(network, grantee):
    if grantee._meta.label_lower == "identity.domain":
        return NetworkAccess(network=network, domain=grantee)
    return NetworkAccess(network=network, project=grantee)


def _place_dhcp(network):
    if network.has_dhcp and not network.external:
        network.dhcp_host = placement.network_node(network.zone, [network.physical_network])


def _segment_and_save(network, physical_network, vlan_id):
    """Set the physical network, the VLAN id (from the pools unless given) and the DHCP host; insert."""
    if network.network_type != Network.VLAN or vlan_id is not None:
        if physical_network is None:
            raise ValidationFailed("Name the physical network.", code="bad_physical_network")
        network.physical_network = checked_physical_network(physical_network)
        network.vlan_id = vlan_id
        _place_dhcp(network)
        return save_or_refuse(
            network,
            {
                "network_unique_vlan_in_zone": Conflict(
                    f"VLAN {vlan_id} is in use in zone {network.zone}.", code="vlan_in_use"
                ),
                "network_one_flat_per_physical_network": Conflict(
                    f"Physical network {physical_network} already has a flat network in zone {network.zone}.",
                    code="physical_network_in_use",
                ),
                "network_vlan_id_iff_vlan": ValidationFailed(
                    "A VLAN id is 1-4094, and only VLAN networks have one.", code="bad_vlan_id"
                ),
            },
        )
    if physical_network is not None:
        checked_physical_network(physical_network)
    for _ in range(VLAN_ATTEMPTS):
        network.physical_network, network.vlan_id = vlans.free_vlan(network.zone, physical_network)
        _place_dhcp(network)
        try:
            with transaction.atomic():
                network.save(force_insert=True)
            return network
        except IntegrityError as error:
            if violated_constraint(error) != "network_unique_vlan_in_zone":
                raise
    raise Conflict(
        "Every free VLAN id was taken while this network was made; try again.", code="vlan_ids_exhausted"
    )


def update_network(actor, network, *, name=None, description=None, shared_with=None):
    action = "networks.network.update"
    with audited(actor, action, target=network.target(), obj=network) as op:
        require(actor, action, network.target(), "You may not change this network.")
        if name is not None:
            network.name = checked_name(name, "network")
        if description is not None:
            network.description = description[:255]
        network.save(update_fields=["name", "description"])
        if shared_with is not None:
            require(actor, NETWORK_PROVIDER, PLATFORM, "Only cloud administrators share networks.")
            if not network.shared:
                raise ValidationFailed(
                    "Only a network without a project is shared.", code="network_not_shared"
                )
            network.access.all().delete()
            NetworkAccess.objects.bulk_create([_access(network, grantee) for grantee in shared_with])
            op.details = {"shared_with": [str(g.pk) for g in shared_with]}
    return network


def delete_network(actor, network):
    """Delete a network with no ports but its DHCP server's; its subnets and their claims go with it."""
    action = "networks.network.delete"
    with audited(actor, action, target=network.target(), obj=network):
        require(actor, action, network.target(), "You may not delete this network.")
        lock_for_delete(network)
        if (
            network.ports.exclude(device_owner=Port.DHCP).exists()
            or FloatingIP.objects.filter(network=network).exists()
        ):
            raise Conflict(f"Network {network} still has ports.", code="network_in_use")
        sync_hosts(fanout.hosts_for_network(network.pk))
        port_records.remove(list(network.ports.all()))
        for subnet in Subnet.objects.filter(network=network):
            quotas.release(subnet)
            subnet.delete()
        quotas.release(network)
        usage.network_deleted(network)
        network.delete()
