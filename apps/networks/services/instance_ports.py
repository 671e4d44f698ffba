"""An instance's NICs, for the compute app: allocated in its create, let go with its delete.

These run inside the caller's transaction and audited operation (the
instance's create, delete, attach or detach), so an instance and its ports
commit or roll back together, and every refusal is the caller's refusal:

    ports = allocate_ports_for_instance(actor, project, [{"network_id": n}], instance, host=host)
    ...
    release_ports(instance.pk)

A NIC request names a network (a new port is made, and deleted with the
instance) or an existing unattached port of the project (attached, and only
let go when the instance goes). The instance is named by id only: the
networks app sits below compute and knows nothing of it.
"""

from dataclasses import dataclass

from apps.core.errors import ValidationFailed
from apps.identity.services.common import require

from ..addressing import dns_label
from ..models import Port
from .ports import build_port, claim_ports, remove_tenant_ports, usable_network

MAX_NICS = 8


@dataclass(frozen=True)
class NicRequest:
    network_id: object = None
    port_id: object = None
    fixed_ips: tuple = ()
    security_group_ids: tuple | None = None

    @classmethod
    def parse(cls, value):
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict) or bool(value.get("network_id")) == bool(value.get("port_id")):
            raise ValidationFailed("Each NIC names a network_id or a port_id.", code="bad_nic_request")
        groups = value.get("security_group_ids")
        return cls(
            value.get("network_id"),
            value.get("port_id"),
            tuple(value.get("fixed_ips") or ()),
            tuple(groups) if groups is not None else None,
        )


def allocate_ports_for_instance(actor, project, requested, instance, *, host=None, hostname=None):
    """The instance's ports, in NIC order, made or attached now; `host`, if known, is where they plug in."""
    require(
        actor, "networks.port.create", project.target(), f"You may not create ports in project {project}."
    )
    requests = [NicRequest.parse(r) for r in requested]
    if len(requests) > MAX_NICS:
        raise ValidationFailed(f"An instance has at most {MAX_NICS} NICs.", code="too_many_nics")
    named = [str(r.port_id) for r in requests if r.port_id]
    if len(named) != len(set(named)):
        raise ValidationFailed("A port can be one NIC only.", code="bad_nic_request")
    hostname = dns_label(hostname if hostname is not None else getattr(instance, "name", ""))
    ports = []
    for request in requests:
        if request.port_id:
            ports.append(_attach(project, request.port_id, instance.pk, host, hostname))
            continue
        network = usable_network(project, request.network_id)
        if host is not None and network.zone_id != host.zone_id:
            raise ValidationFailed(
                f"Network {network} is not in the instance's zone.", code="network_not_in_zone"
            )
        ports.append(
            build_port(
                actor,
                project,
                network,
                fixed_ips=request.fixed_ips,
                security_group_ids=request.security_group_ids,
                device_owner=Port.COMPUTE,
                instance_id=instance.pk,
                host=host,
                hostname=hostname,
                delete_with_instance=True,
            )
        )
    claim_ports(project, [p for p in ports if p.delete_with_instance])
    return ports


def _attach(project, port_id, instance_id, host, hostname):
    port = Port.objects.select_for_update(no_key=True).filter(pk=port_id, project=project).first()
    if port is None:
        raise ValidationFailed(f"No port {port_id} in this project.", code="port_not_found")
    if port.device_owner != Port.UNATTACHED:
        raise ValidationFailed(f"Port {port} is already in use.", code="port_in_use")
    if host is not None and port.network.zone_id != host.zone_id:
        raise ValidationFailed(f"Port {port} is not in the instance's zone.", code="network_not_in_zone")
    port.device_owner, port.instance_id, port.host, port.hostname = Port.COMPUTE, instance_id, host, hostname
    port.save(update_fields=["device_owner", "instance_id", "host", "hostname"])
    port.fixed_ips = [
        {"subnet_id": str(s), "ip_address": a} for s, a in port.addresses.values_list("subnet_id", "address")
    ]
    port.security_group_ids = [str(pk) for pk in port.security_groups.values_list("pk", flat=True)]
    return port


def bind_ports(instance_id, host):
    """Plug the instance's ports in on `host` (after placement, or a migration)."""
    return Port.objects.filter(instance_id=instance_id).update(host=host)


def detach(ports):
    """Let go of an instance's ports: those made with it are deleted, those attached by id kept."""
    made = [p for p in ports if p.delete_with_instance]
    if made:
        remove_tenant_ports(made)
    kept = [p.pk for p in ports if not p.delete_with_instance]
    Port.objects.filter(pk__in=kept).update(
        device_owner=Port.UNATTACHED, instance_id=None, host=None, hostname=""
    )


def release_ports(instance_id):
    """Everything the instance held on networks, let go: the end of its delete."""
    ports = list(Port.objects.select_for_update().filter(instance_id=instance_id))
    detach(ports)
    return [p.pk for p in ports]


def detach_port(instance_id, port_id):
    """One NIC of the instance (a detach-interface), or 400 when the instance has no such port."""
    ports = list(Port.objects.select_for_update().filter(instance_id=instance_id, pk=port_id))
    if not ports:
        raise ValidationFailed(f"The instance has no port {port_id}.", code="port_not_found")
    detach(ports)
    return ports[0]
