"""Ports a tenant makes, changes and deletes through the API.

A port is made on a network its project may use (its own, or one shared with
it), never on a public pool. Its MAC, addresses and security groups (the
project's default group unless others are named) are taken in one
transaction with its `ports` claim, which comes last so the project's usage
row stays locked as briefly as possible.
"""

import uuid

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.identity.services.common import lock_for_delete, require
from apps.quotas import services as quotas

from ..models import FloatingIP, Network, Port
from ..selectors import paths_above
from . import port_records
from .common import checked_name
from .security_groups import default_group

# The project's own network, or a shared one with an access row for the project or a domain above it.
_USABLE_NETWORK_SQL = """
SELECT n.* FROM networks_network n
 WHERE n.id = %s AND n.external = %s
   AND (n.project_id = %s
        OR (n.project_id IS NULL AND EXISTS (
            SELECT 1 FROM networks_networkaccess a LEFT JOIN identity_domain d ON d.id = a.domain_id
             WHERE a.network_id = n.id AND (a.project_id = %s OR d.path = ANY(%s)))))
   FOR KEY SHARE OF n
"""


def usable_network(project, network_id, *, external=False):
    """The network (or public pool) `project` may use, locked FOR KEY SHARE; else 400 network_not_found.

    Hand-written SQL: this runs in every port create, where compiling a queryset cost more than the query.
    """
    what = "public pool" if external else "network"
    refusal = ValidationFailed(f"No {what} {network_id} that this project may use.", code="network_not_found")
    try:
        network_id = uuid.UUID(str(network_id))
    except ValueError as exc:
        raise refusal from exc
    params = [network_id, external, project.pk, project.pk, paths_above(project.domain.path)]
    found = list(Network.objects.raw(_USABLE_NETWORK_SQL, params))
    if not found:
        raise refusal
    return found[0]


def port_groups(project, security_group_ids):
    """The groups a new port joins: those named, or the project's default group."""
    if security_group_ids is None:
        return [default_group(project)]
    return port_records.groups_of(project, security_group_ids)


def build_port(
    actor, project, network, *, name="", fixed_ips=None, security_group_ids=None, mac_address=None, **fields
):
    """Make a tenant's port on `network` (from usable_network), in the caller's transaction.

    Its `ports` claim is the caller's last step (claim_ports): the claim locks the
    project's usage row until the commit, so the less that follows it, the less
    other creates in the project wait.
    """
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
    port.fixed_ips = port_records.fixed_ips(given)
    port.security_group_ids = [str(g.pk) for g in groups]
    return port


def claim_ports(project, ports):
    for port in ports:
        quotas.claim(project, {"ports": 1}, port)


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
        claim_ports(project, [port])
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
