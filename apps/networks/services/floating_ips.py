"""Floating IPs: allocated from a public pool, associated with a port's fixed IP, moved, released.

A floating IP holds its public address through a port of the pool (so IPAM's
one-row-per-address guarantee covers it too). Associating it names the
project's port and one of its IPv4 addresses, and the router that translates
between them: one with its gateway on the floating IP's pool and an interface
on the fixed IP's subnet. A fixed IP has at most one floating IP, by
constraint.
"""

import ipaddress

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.identity.services.common import lock_for_delete, require
from apps.quotas import services as quotas

from .. import usage
from ..addressing import address_of
from ..host_work import sync_hosts
from ..locking import for_key_share, save_or_refuse
from ..models import FloatingIP, Port, Router, SubnetAddress
from . import port_records
from .routers import public_network


def allocate_floating_ip(actor, project, *, network_id):
    action = "networks.floating_ip.create"
    with audited(actor, action, target=project.target()) as op:
        require(actor, action, project.target(), f"You may not allocate floating IPs in project {project}.")
        network = public_network(project, network_id)
        port = port_records.insert(Port(network=network, device_owner=Port.FLOATING_IP, name="floating ip"))
        ipv4 = [s for s in port_records.locked_subnets(network) if s.ip_version == 4]
        [(_, address)] = port_records.assign_addresses(port, network, ipv4)
        floating = FloatingIP(
            project=project, network=network, address_port=port, floating_ip_address=address
        )
        op.object = floating
        floating.save(force_insert=True)
        usage.floating_ip_allocated(floating)
        op.details = {"address": address, "network": str(network.pk)}
        quotas.claim(project, {"floating_ips": 1}, floating)
    return floating


def _locked(floating):
    return FloatingIP.objects.select_for_update(no_key=True).get(pk=floating.pk)


def _fixed_ip(port, fixed_ip_address):
    """The port's IPv4 address to translate to: the one named, or its first."""
    addresses = [
        a
        for a in SubnetAddress.objects.filter(port=port).order_by("address").values_list("address", flat=True)
        if ipaddress.ip_address(a).version == 4
    ]
    if fixed_ip_address is None and addresses:
        return addresses[0]
    if fixed_ip_address is not None and str(address_of(fixed_ip_address)) in addresses:
        return str(address_of(fixed_ip_address))
    raise ValidationFailed("The port has no such IPv4 address.", code="fixed_ip_not_found")


def _translating_router(floating, port, fixed_ip):
    subnet_id = SubnetAddress.objects.filter(port=port, address=fixed_ip).values("subnet_id")
    router = Router.objects.filter(
        project_id=floating.project_id,
        gateway_port__network_id=floating.network_id,
        ports__device_owner=Port.ROUTER_INTERFACE,
        ports__addresses__subnet_id__in=subnet_id,
    ).first()
    if router is None:
        raise Conflict(
            f"No router of the project joins {fixed_ip}'s subnet to public pool {floating.network}.",
            code="external_network_unreachable",
        )
    return router


def associate(actor, floating, *, port_id, fixed_ip_address=None):
    """Associate (or move) the floating IP to a port's fixed IP."""
    action = "networks.floating_ip.update"
    with audited(actor, action, target=floating.target(), obj=floating) as op:
        require(actor, action, floating.target(), "You may not change this floating IP.")
        floating = _locked(floating)
        reached = _hosts_of(floating)
        found = for_key_share(
            Port.objects.filter(
                pk=port_id, project_id=floating.project_id, device_owner__in=Port.TENANT_OWNERS
            )
        )
        if not found:
            raise ValidationFailed(f"No port {port_id} in this project.", code="port_not_found")
        port = found[0]
        fixed_ip = _fixed_ip(port, fixed_ip_address)
        before = (str(floating.fixed_port_id), floating.fixed_ip_address) if floating.associated else None
        floating.fixed_port, floating.fixed_ip_address = port, fixed_ip
        floating.router = _translating_router(floating, port, fixed_ip)
        save_or_refuse(
            floating,
            {
                "floating_ip_one_per_fixed_ip": Conflict(
                    f"{fixed_ip} already has a floating IP.", code="fixed_ip_has_floating_ip"
                )
            },
        )
        sync_hosts(reached | _hosts_of(floating))
        op.details = {
            "port": str(port.pk),
            "fixed_ip": fixed_ip,
            "router": str(floating.router_id),
            "moved_from": before,
        }
    return floating


def disassociate(actor, floating):
    action = "networks.floating_ip.update"
    with audited(actor, action, target=floating.target(), obj=floating) as op:
        require(actor, action, floating.target(), "You may not change this floating IP.")
        floating = _locked(floating)
        op.details = {"port": str(floating.fixed_port_id) if floating.associated else None}
        sync_hosts(_hosts_of(floating))
        floating.fixed_port = floating.fixed_ip_address = floating.router = None
        floating.save(update_fields=["fixed_port", "fixed_ip_address", "router"])
    return floating


def _hosts_of(floating):
    """Where an association is realized: the router's network node (DNAT) and the port's host (metadata)."""
    if not floating.associated:
        return set()
    port_host = Port.objects.filter(pk=floating.fixed_port_id).values_list("host_id", flat=True).first()
    return {floating.router.host_id, port_host} - {None}


def release_floating_ip(actor, floating):
    action = "networks.floating_ip.delete"
    with audited(actor, action, target=floating.target(), obj=floating):
        require(actor, action, floating.target(), "You may not release this floating IP.")
        lock_for_delete(floating)
        sync_hosts(_hosts_of(floating))
        address_port = Port.objects.get(pk=floating.address_port_id)
        quotas.release(floating)
        usage.floating_ip_released(floating)
        floating.delete()
        port_records.remove([address_port])
