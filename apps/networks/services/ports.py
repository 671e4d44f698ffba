"""Ports a tenant makes, changes and deletes through the API.

A port is made on a network its project may use (its own, or one shared with
it), never on a public pool. Its MAC, addresses and security groups (the
project's default group unless others are named) are taken in one
transaction with its `ports` claim, which comes last so the project's usage
row stays locked as briefly as possible.
"""

import uuid
from dataclasses import dataclass

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.prepared import PreparedStatement
from apps.identity.services.common import lock_for_delete, require
from apps.quotas import services as quotas

from .. import fanout
from ..host_work import sync_hosts
from ..models import FloatingIP, Network, Port, SecurityGroup, Subnet
from ..selectors import paths_above
from . import port_records
from .common import checked_name
from .security_groups import default_group

# The project's own network, or a shared one with an access row for the project or a domain above
# it, locked FOR KEY SHARE with its subnets (in order), and the project's default group when asked.
_TARGET_SQL = """
WITH n AS MATERIALIZED (
    SELECT n.* FROM networks_network n
     WHERE n.id = %(network)s AND n.external = %(external)s
       AND (n.project_id = %(project)s
            OR (n.project_id IS NULL AND EXISTS (
                SELECT 1 FROM networks_networkaccess a LEFT JOIN identity_domain d ON d.id = a.domain_id
                 WHERE a.network_id = n.id AND (a.project_id = %(project)s OR d.path = ANY(%(paths)s)))))
       FOR KEY SHARE OF n
), s AS MATERIALIZED (
    SELECT * FROM networks_subnet WHERE network_id IN (SELECT id FROM n)
     ORDER BY ip_version, created_at, id FOR KEY SHARE
), g AS MATERIALIZED (
    SELECT id FROM networks_securitygroup WHERE %(default_group)s AND project_id = %(project)s AND is_default
       FOR KEY SHARE
)
SELECT n.*, (SELECT id FROM g) AS default_group_id,
       (SELECT coalesce(json_agg(json_build_object(
            'id', s.id, 'ip_version', s.ip_version, 'cidr', s.cidr, 'gateway_ip', host(s.gateway_ip),
            'allocation_pools', s.allocation_pools, 'enable_dhcp', s.enable_dhcp, 'ipv6_mode', s.ipv6_mode,
            'reserved_addresses', (SELECT coalesce(json_agg(host(r)), '[]')
                                     FROM unnest(s.reserved_addresses) r)
        ) ORDER BY s.ip_version, s.created_at, s.id), '[]') FROM s) AS subnet_rows
  FROM n
"""
_TARGET = PreparedStatement(
    "networks_port_target",
    _TARGET_SQL,
    {
        "network": "uuid",
        "external": "boolean",
        "project": "uuid",
        "paths": "varchar[]",
        "default_group": "boolean",
    },
)


@dataclass
class PortTarget:
    """A network a port is made on, with its subnets (locked), and the project's default group (if asked)."""

    network: Network
    subnets: list
    default_group_id: object = None


def port_target(project, network_id, *, external=False, default_group=False):
    """The network (or public pool) `project` may use, locked FOR KEY SHARE with its subnets, in one
    statement; else 400 network_not_found. With `default_group`, the project's default group's id too.
    """
    what = "public pool" if external else "network"
    refusal = ValidationFailed(f"No {what} {network_id} that this project may use.", code="network_not_found")
    try:
        network_id = uuid.UUID(str(network_id))
    except ValueError as exc:
        raise refusal from exc
    params = {
        "network": network_id,
        "external": external,
        "project": project.pk,
        "paths": paths_above(project.domain.path),
        "default_group": default_group,
    }
    found = list(Network.objects.raw(*_TARGET.query(params)))
    if not found:
        raise refusal
    network = found[0]
    subnets = [
        Subnet(network_id=network.pk, **{**row, "id": uuid.UUID(row["id"])}) for row in network.subnet_rows
    ]
    return PortTarget(network, subnets, network.default_group_id)


def usable_network(project, network_id, *, external=False):
    """The network (or public pool) `project` may use, locked FOR KEY SHARE; else 400 network_not_found."""
    return port_target(project, network_id, external=external).network


def port_groups(project, security_group_ids, default_group_id=None):
    """The groups a new port joins: those named, or the project's default group."""
    if security_group_ids is not None:
        return port_records.groups_of(project, security_group_ids)
    if default_group_id is not None:
        return [SecurityGroup(pk=default_group_id, project=project)]
    return [default_group(project)]


def build_port(
    actor, project, target, *, name="", fixed_ips=None, security_group_ids=None, mac_address=None, **fields
):
    """Make a tenant's port on `target` (a PortTarget), in the caller's transaction.

    Its `ports` claim is the caller's last step (claim_ports): the claim locks the
    project's usage row until the commit, so the less that follows it, the less
    other creates in the project wait. A port with neither a MAC nor addresses
    named (nearly every one) is written in one statement.
    """
    network = target.network
    port = Port(name=checked_name(name, "port", required=False), network=network, project=project, **fields)
    if mac_address is not None:
        require(
            actor, "networks.network.update", network.target(), "Only the network's owners choose MACs on it."
        )
    groups = port_groups(project, security_group_ids, target.default_group_id)
    if mac_address is None and not fixed_ips:
        given = port_records.insert_with_addresses(port, network, target.subnets, groups)
    else:
        port_records.insert(port, mac_address)
        given = port_records.assign_addresses(
            port,
            network,
            target.subnets,
            fixed_ips,
            may_name_outside_pools=actor.can("networks.network.update", network.target()),
        )
        port_records.join_groups(port, groups)
    port.fixed_ips = port_records.fixed_ips(given)
    port.security_group_ids = [str(g.pk) for g in groups]
    return port


def claim_ports(project, ports):
    quotas.claim_all(project, [(port, {"ports": 1}) for port in ports])


def create_port(actor, project, *, network_id, **options):
    action = "networks.port.create"
    with audited(actor, action, target=project.target()) as op:
        require(actor, action, project.target(), f"You may not create ports in project {project}.")
        target = port_target(project, network_id, default_group=options.get("security_group_ids") is None)
        port = build_port(actor, project, target, **options)
        op.object = port
        op.details = {
            "network": str(target.network.pk),
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
            reached = fanout.hosts_for_port(port)
            port_records.replace_groups(port, groups)
            sync_hosts(reached | fanout.hosts_for_port(port))
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
    associated = FloatingIP.objects.filter(fixed_port__in=[p.pk for p in ports])
    sync_hosts(set(associated.values_list("router__host_id", flat=True)))
    associated.update(fixed_port=None, fixed_ip_address=None, router=None)
    for port in ports:
        quotas.release(port)
    port_records.remove(ports)
