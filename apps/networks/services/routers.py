"""Routers: placed on a network node, with a gateway on a public pool and interfaces on VLAN networks.

An interface takes its subnet's gateway address, on a network of the router's
own project (a tenant never becomes the gateway of a network others share).
Interface changes lock the router row, so two of them never attach
overlapping subnets to one router. A router's gateway does SNAT for what
leaves it and DNAT for the floating IPs associated through it.
"""

import ipaddress

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.identity.services.common import lock_for_delete, require
from apps.quotas import services as quotas

from .. import placement
from ..host_work import sync_hosts
from ..locking import for_key_share
from ..models import Network, Port, Router, Subnet
from . import port_records
from .common import checked_name
from .ports import usable_network


def public_network(project, network_id):
    """A public pool `project` may use, locked FOR KEY SHARE; else 400."""
    return usable_network(project, network_id, external=True)


def create_router(actor, project, *, name, zone, external_network_id=None, enable_snat=True):
    action = "networks.router.create"
    with audited(actor, action, target=project.target()) as op:
        require(actor, action, project.target(), f"You may not create routers in project {project}.")
        external = public_network(project, external_network_id) if external_network_id else None
        if external is not None and external.zone_id != zone.pk:
            raise ValidationFailed(
                f"Public pool {external} is not in zone {zone}.", code="network_not_in_zone"
            )
        router = Router(
            name=checked_name(name, "router"),
            project=project,
            zone=zone,
            enable_snat=bool(enable_snat),
            host=placement.network_node(zone, [external.physical_network] if external else []),
        )
        op.object = router
        router.save()
        if external is not None:
            _attach_gateway(router, external)
        op.details = {"host": router.host.name, "external_network": str(external.pk) if external else None}
        sync_hosts({router.host_id})
        quotas.claim(project, {"routers": 1}, router)
    return router


def _attach_gateway(router, external):
    port = port_records.insert(
        Port(
            network=external,
            device_owner=Port.ROUTER_GATEWAY,
            router=router,
            host=router.host,
            name="gateway",
        )
    )
    ipv4 = [s for s in port_records.locked_subnets(external) if s.ip_version == 4]
    port_records.assign_addresses(port, external, ipv4)
    router.gateway_port = port
    router.save(update_fields=["gateway_port"])


def _locked(router):
    return (
        Router.objects.select_for_update(no_key=True, of=("self",))
        .select_related("host", "gateway_port")
        .get(pk=router.pk)
    )


def set_gateway(actor, router, *, external_network_id, enable_snat=None):
    """Put the router's gateway on a public pool (None: take it off), and switch SNAT."""
    action = "networks.router.update"
    with audited(actor, action, target=router.target(), obj=router) as op:
        require(actor, action, router.target(), "You may not change this router.")
        router = _locked(router)
        current = router.gateway_port.network_id if router.gateway_port else None
        if str(current) != str(external_network_id):
            external = public_network(router.project, external_network_id) if external_network_id else None
            if external is not None and external.zone_id != router.zone_id:
                raise ValidationFailed(
                    f"Public pool {external} is not in the router's zone.", code="network_not_in_zone"
                )
            if external is not None and not placement.carries(router.host, external.physical_network):
                raise _lacks(router, external)
            if router.floating_ips.exists():
                raise Conflict(
                    "Floating IPs are associated through this router.", code="router_has_floating_ips"
                )
            if router.gateway_port is not None:
                old = router.gateway_port
                router.gateway_port = None
                router.save(update_fields=["gateway_port"])
                port_records.remove([old])
            if external is not None:
                _attach_gateway(router, external)
        if enable_snat is not None:
            router.enable_snat = bool(enable_snat)
            router.save(update_fields=["enable_snat"])
        op.details = {
            "external_network": str(external_network_id) if external_network_id else None,
            "snat": router.enable_snat,
        }
        sync_hosts({router.host_id})
    return router


def _lacks(router, network):
    return Conflict(
        f"The router's network node {router.host} has no physical network {network.physical_network}.",
        code="network_node_lacks_physical_network",
    )


def _interface_subnet(router, subnet_id):
    """A subnet of a VLAN network of the router's project, in its zone, locked FOR KEY SHARE."""
    found = for_key_share(
        Subnet.objects.filter(
            pk=subnet_id,
            network__project_id=router.project_id,
            network__network_type=Network.VLAN,
            network__zone_id=router.zone_id,
        )
    )
    if not found:
        raise ValidationFailed(
            f"No subnet {subnet_id} of this project's VLAN networks in the router's zone.",
            code="subnet_not_found",
        )
    return found[0]


def interface_subnets(router):
    return Subnet.objects.filter(
        addresses__port__router=router, addresses__port__device_owner=Port.ROUTER_INTERFACE
    )


def add_interface(actor, router, *, subnet_id):
    """Attach a subnet: a port of the router takes the subnet's gateway address. Returns the port."""
    action = "networks.router.update"
    with audited(actor, action, target=router.target(), obj=router) as op:
        require(actor, action, router.target(), "You may not change this router.")
        router = _locked(router)
        subnet = _interface_subnet(router, subnet_id)
        if subnet.gateway_ip is None:
            raise ValidationFailed(
                f"Subnet {subnet} has no gateway address for the router.", code="subnet_has_no_gateway"
            )
        net = ipaddress.ip_network(subnet.cidr)
        for other in interface_subnets(router):
            if other.pk == subnet.pk:
                raise Conflict(
                    f"Subnet {subnet} is already attached to this router.", code="subnet_already_attached"
                )
            if ipaddress.ip_network(other.cidr).overlaps(net):
                raise Conflict(
                    f"{net} overlaps {other.cidr}, already attached to this router.", code="subnet_overlaps"
                )
        network = for_key_share(Network.objects.filter(pk=subnet.network_id))[0]
        if not placement.carries(router.host, network.physical_network):
            raise _lacks(router, network)
        port = port_records.insert(
            Port(
                network=network,
                project_id=router.project_id,
                device_owner=Port.ROUTER_INTERFACE,
                router=router,
                host=router.host,
                name=f"router {router.name}"[:64],
            )
        )
        port_records.assign_addresses(
            port,
            network,
            [subnet],
            [{"subnet_id": subnet.pk, "ip_address": subnet.gateway_ip}],
            gateway_of=subnet,
        )
        op.details = {"subnet": str(subnet.pk), "port": str(port.pk)}
        sync_hosts({router.host_id})
    return port


def remove_interface(actor, router, *, subnet_id):
    action = "networks.router.update"
    with audited(actor, action, target=router.target(), obj=router) as op:
        require(actor, action, router.target(), "You may not change this router.")
        router = _locked(router)
        ports = list(
            Port.objects.filter(
                router=router, device_owner=Port.ROUTER_INTERFACE, addresses__subnet_id=subnet_id
            )
        )
        if not ports:
            raise ValidationFailed(
                f"Subnet {subnet_id} is not attached to this router.", code="subnet_not_attached"
            )
        cidr = ipaddress.ip_network(Subnet.objects.get(pk=subnet_id).cidr)
        if any(
            ipaddress.ip_address(a) in cidr
            for a in router.floating_ips.values_list("fixed_ip_address", flat=True)
        ):
            raise Conflict(
                "Floating IPs reach this subnet through the router.", code="router_interface_in_use"
            )
        port_records.remove(ports)
        op.details = {"subnet": str(subnet_id)}
        sync_hosts({router.host_id})


def rename_router(actor, router, *, name=None):
    """Rename the router; without a name (an empty PATCH) nothing changes."""
    action = "networks.router.update"
    with audited(actor, action, target=router.target(), obj=router) as op:
        require(actor, action, router.target(), "You may not change this router.")
        if name is not None:
            router.name = checked_name(name, "router")
            op.details = {"name": router.name}
            router.save(update_fields=["name"])
    return router


def delete_router(actor, router):
    action = "networks.router.delete"
    with audited(actor, action, target=router.target(), obj=router):
        require(actor, action, router.target(), "You may not delete this router.")
        lock_for_delete(router)
        if router.ports.filter(device_owner=Port.ROUTER_INTERFACE).exists() or router.floating_ips.exists():
            raise Conflict(f"Router {router} still has interfaces.", code="router_in_use")
        gateway = router.gateway_port
        if gateway is not None:
            router.gateway_port = None
            router.save(update_fields=["gateway_port"])
            port_records.remove([gateway])
        quotas.release(router)
        sync_hosts({router.host_id})
        router.delete()
