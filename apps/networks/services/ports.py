"""Ports a tenant makes, changes and deletes through the API.

A port is made on a network its project may use (its own, or one shared with
it), never on a public pool. Its MAC, addresses and security groups (the
project's default group unless others are named) are taken in one
transaction with its `ports` claim, which comes last so the project's usage
row stays locked as briefly as possible.
"""

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.identity.services.common import lock_for_delete, require
from apps.quotas import services as quotas

from ..locking import for_key_share
from ..models import FloatingIP, Network, Port
from ..selectors import usable_by
from . import port_records
from .common import checked_name
from .security_groups import default_group


def usable_network(project, network_id):
    """The network `network_id` if `project` may put ports on it, locked FOR KEY SHARE; else 400."""
    found = for_key_share(Network.objects.filter(usable_by(project), pk=network_id, external=False))
    if not found:
        raise ValidationFailed(
            f"No network {network_id} that this project may use.", code="network_not_found"
        )
    return found[0]


def port_groups(project, security_group_ids):
    """The groups a new port joins: those named, or the project's default group."""
    if security_group_ids is None:
        return [default_group(project)]
    return port_records.groups_of(project, security_group_ids)


def build_port(
    actor, project, network, *, name="", fixed_ips=None, security_group_ids=None, mac_address=None, **fields
):
    """Make a tenant's port on `network` (from usable_network), in the caller's transaction."""
    port = Port(name=checked_name(name, "port", required=False), network=network, project=project, **fields)
    if mac_address is not None:
        require(
            actor, "networks.network.update", network.target(), "Only the network's owners choose MACs on it."
        )
    groups = port_groups(project, security_group_ids)
    subnets = port_records.locked_subnets(network)
    port_records.insert(port, mac_address)
    given = port_records.assign_addresses(
        port,
        network,
        subnets,
        fixed_ips,
        may_name_outside_pools=actor.can("networks.network.update", network.target()),
    )
    port_records.join_groups(port, groups)
    quotas.claim(project, {"ports": 1}, port)
    port.fixed_ips = port_records.fixed_ips(given)
    port.security_group_ids = [str(g.pk) for g in groups]
    return port


def create_port(actor, project, *, network_id, **options):
    action = "networks.port.create"
    with audited(actor, action, target=project.target()) as op:
        require(actor, action, project.target(), f"You may not create ports in project {project}.")
        network = usable_network(project, network_id)
        port = build_port(actor, project, network, **options)
        op.object = port
        op.details = {
            "network": str(network.pk),
            "fixed_ips": port.fixed_ips,
            "mac_address": port.mac_address,
        }
    return port


def update_port(actor, port, *, name=None, security_group_ids=None):
    action = "networks.port.update"
    with audited(actor, action, target=port.target(), obj=port) as op:
        require(actor, action, port.target(), "You may not change this port.")
        if name is not None:
            port.name = checked_name(name, "port", required=False)
            port.save(update_fields=["name"])
        if security_group_ids is not None:
            if port.device_owner not in Port.TENANT_OWNERS:
                raise Conflict(
                    "This port belongs to the network; its security groups are not set.",
                    code="port_owned_by_network",
                )
            groups = port_records.groups_of(port.project, security_group_ids)
            port_records.replace_groups(port, groups)
            op.details = {"security_group_ids": [str(g.pk) for g in groups]}
    return port


def delete_port(actor, port):
    """Delete a port that no instance uses; a floating IP on it is disassociated."""
    action = "networks.port.delete"
    with audited(actor, action, target=port.target(), obj=port):
        require(actor, action, port.target(), "You may not delete this port.")
        lock_for_delete(port)
        if port.device_owner not in Port.TENANT_OWNERS:
            raise Conflict(
                "This port belongs to a router or to the network itself.", code="port_owned_by_network"
            )
        if port.instance_id is not None:
            raise Conflict("This port is attached to an instance: detach it first.", code="port_attached")
        remove_tenant_ports([port])


def remove_tenant_ports(ports):
    """Delete tenant ports: floating IPs on them are disassociated, their claims and addresses released."""
    FloatingIP.objects.filter(fixed_port__in=[p.pk for p in ports]).update(
        fixed_port=None, fixed_ip_address=None, router=None
    )
    for port in ports:
        quotas.release(port)
    port_records.remove(ports)
