"""An instance's NICs, for the compute app: planned and made in its create, let go with its delete.

These run inside the caller's transaction and audited operation (the
instance's create, delete, attach or detach), so an instance and its ports
commit or roll back together, and every refusal is the caller's refusal:

    nics = plan_nics(actor, project, [{"network_id": n}])      # before placement: where may it go
    quotas.claim_all(project, [(instance, ...), *nics.claims()])
    ports = make_nics(nics, instance.pk, host, hostname)       # once placed
    ...
    release_ports(instance.pk)                                 # its delete, confirmed

A NIC request names a network (a new port is made, and deleted with the
instance) or an existing unattached port of the project (attached, and only
let go when the instance goes). The instance is named by id only: the
networks app sits below compute and knows nothing of it.
"""

import uuid
from dataclasses import dataclass, field

from django.db.models import Max

from apps.core.errors import ValidationFailed
from apps.identity.services.common import require

from .. import fanout
from ..addressing import dns_label
from ..models import Network, Port
from ..selectors import usable_networks
from .ports import build_port, port_target, remove_tenant_ports

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


@dataclass
class NicPlan:
    """One NIC: a new port on `target` (its id chosen now, for its quota claim), or an existing `port`."""

    request: NicRequest
    port_id: uuid.UUID
    target: object = None
    port: Port | None = None

    @property
    def network(self):
        return self.target.network if self.target is not None else self.port.network


@dataclass
class InstanceNics:
    """The NICs an instance asked for, resolved and locked, before it is placed."""

    nics: list = field(default_factory=list)

    @property
    def networks(self):
        return [nic.network for nic in self.nics]

    @property
    def physical_networks(self):
        """What a host must carry to plug these NICs in (the scheduler's filter)."""
        return frozenset(n.physical_network for n in self.networks)

    @property
    def zone_ids(self):
        return {n.zone_id for n in self.networks}

    @property
    def on_flat_network(self):
        """A flat network has no DHCP: its guests learn their addresses from a config drive."""
        return any(n.network_type == Network.FLAT for n in self.networks)

    def claims(self):
        """(holder, amounts) of the ports made with the instance: each holds one of `ports`."""
        return [(Port(pk=nic.port_id), {"ports": 1}) for nic in self.nics if nic.port is None]


def plan_nics(actor, project, requested):
    """Resolve and lock the NICs asked for; `requested` None means the project's one usable network.

    With no request: the project's network if it may use exactly one (its own or
    shared with it, with a subnet), no NIC if it may use none, and a 400 naming the
    choice when there are several.
    """
    if requested is None:
        requested = _default_request(project)
    requests = [NicRequest.parse(r) for r in requested]
    if not requests:
        return InstanceNics()
    require(
        actor, "networks.port.create", project.target(), f"You may not create ports in project {project}."
    )
    if len(requests) > MAX_NICS:
        raise ValidationFailed(f"An instance has at most {MAX_NICS} NICs.", code="too_many_nics")
    named = [str(r.port_id) for r in requests if r.port_id]
    if len(named) != len(set(named)):
        raise ValidationFailed("A port can be one NIC only.", code="bad_nic_request")
    nics = []
    for request in requests:
        if request.port_id:
            nics.append(
                NicPlan(request, _port_id(request.port_id), port=_unattached(project, request.port_id))
            )
        else:
            target = port_target(
                project, request.network_id, default_group=request.security_group_ids is None
            )
            nics.append(NicPlan(request, uuid.uuid4(), target=target))
    plan = InstanceNics(nics)
    if len(plan.zone_ids) > 1:
        raise ValidationFailed("An instance's networks are all in one zone.", code="network_not_in_zone")
    return plan


def _default_request(project):
    usable = list(usable_networks(project).values_list("id", flat=True)[:2])
    if len(usable) > 1:
        raise ValidationFailed(
            "This project may use several networks: say which (networks).", code="network_required"
        )
    return [{"network_id": network_id} for network_id in usable]


def _port_id(value):
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ValidationFailed(f"No port {value} in this project.", code="port_not_found") from exc


def _unattached(project, port_id):
    port = (
        Port.objects.select_for_update(of=("self",), no_key=True)
        .select_related("network")
        .filter(pk=_port_id(port_id), project=project)
        .first()
    )
    if port is None:
        raise ValidationFailed(f"No port {port_id} in this project.", code="port_not_found")
    if port.device_owner != Port.UNATTACHED:
        raise ValidationFailed(f"Port {port} is already in use.", code="port_in_use")
    return port


def make_nics(actor, project, plan, instance_id, host, hostname, *, first_index=0):
    """The instance's ports, in NIC order, made or attached now on `host`; each knows `reached`, the
    hosts whose network state it changes besides its own."""
    if host is not None and plan.zone_ids and host.zone_id not in plan.zone_ids:
        raise ValidationFailed("The instance's networks are in another zone.", code="network_not_in_zone")
    hostname = dns_label(hostname)
    ports = []
    for index, nic in enumerate(plan.nics, start=first_index):
        fields = {"instance_id": instance_id, "host": host, "hostname": hostname, "device_index": index}
        if nic.port is not None:
            ports.append(_attach(nic.port, **fields))
            continue
        port = build_port(
            actor,
            project,
            nic.target,
            id=nic.port_id,
            fixed_ips=nic.request.fixed_ips,
            security_group_ids=nic.request.security_group_ids,
            device_owner=Port.COMPUTE,
            delete_with_instance=True,
            **fields,
        )
        dhcp = {nic.network.dhcp_host_id} if nic.network.dhcp_host_id else set()
        port.reached = _group_hosts(port) | dhcp
        ports.append(port)
    return ports


def _group_hosts(port):
    found = getattr(port, "group_hosts", None)
    if found is not None:
        return found
    return fanout.hosts_for_groups(port.security_group_ids)


def _attach(port, **fields):
    port.device_owner = Port.COMPUTE
    for name, value in fields.items():
        setattr(port, name, value)
    port.save(update_fields=["device_owner", *fields])
    port.fixed_ips = [
        {"subnet_id": str(s), "ip_address": a} for s, a in port.addresses.values_list("subnet_id", "address")
    ]
    port.security_group_ids = [str(pk) for pk in port.security_groups.values_list("pk", flat=True)]
    port.reached = fanout.hosts_for_port(port)
    return port


def next_device_index(instance_id):
    used = Port.objects.filter(instance_id=instance_id).aggregate(last=Max("device_index"))["last"]
    return 0 if used is None else used + 1


def nic_of(port):
    """A NIC as its host's spec names it: (port id, network id, MAC, tap name)."""
    return (str(port.pk), str(port.network_id), port.mac_address, port.device_name)


def nics_of(instance_id):
    """The instance's NICs in order, each as nic_of gives it."""
    ports = Port.objects.filter(instance_id=instance_id).order_by("device_index")
    return [nic_of(port) for port in ports.only("id", "network_id", "mac_address")]


def physical_networks_of(instance_id):
    """What a host must carry to plug the instance's NICs in (a move's destination)."""
    networks = Network.objects.filter(ports__instance_id=instance_id)
    return frozenset(networks.values_list("physical_network", flat=True))


def expect_ports(instance_id, host):
    """The instance is moving to `host`: its ports are in that host's desired state too (filtered there before
    its guest arrives) until the move ends there (rebind_ports) or is undone (forget_arrival).

    Returns the hosts to sync: `host`, when anything changed (no other host's state does: a group's member
    addresses are the same wherever the port is plugged in).
    """
    ports = Port.objects.filter(instance_id=instance_id).exclude(host=host).exclude(arriving_host=host)
    return {host.pk} if ports.update(arriving_host=host) else set()


def forget_arrival(instance_id, host):
    """The instance's move to `host` was undone (its copy there is gone): its ports leave that host's state.

    Returns the hosts to sync.
    """
    forgotten = Port.objects.filter(instance_id=instance_id, arriving_host=host).update(arriving_host=None)
    return {host.pk} if forgotten else set()


def rebind_ports(instance_id, host):
    """The instance now runs on `host` (a migration, an evacuation, a reverted resize): its ports are bound
    there, arriving nowhere; returns the hosts to sync (none when they were bound there already).

    Call in the transaction that moves the instance, then `host_work.sync_hosts(...)` on the answer:
    the host it left (its taps and filters go), the new one and every host filtering on its groups.
    """
    ports = Port.objects.select_for_update(no_key=True).filter(instance_id=instance_id)
    moving = [p for p in ports if p.host_id != host.pk or p.arriving_host_id is not None]
    if not moving:
        return set()
    reached = {host.pk}
    for port in moving:
        reached |= fanout.hosts_for_port(port)
    Port.objects.filter(pk__in=[p.pk for p in moving]).update(host=host, arriving_host=None)
    return reached


def _detach(ports):
    """Let go of an instance's ports: those made with it are deleted, those attached by id kept.

    Returns the hosts whose network state changes.
    """
    reached = set()
    for port in ports:
        reached |= fanout.hosts_for_port(port)
    made = [p for p in ports if p.delete_with_instance]
    if made:
        remove_tenant_ports(made)
    kept = [p.pk for p in ports if not p.delete_with_instance]
    Port.objects.filter(pk__in=kept).update(
        device_owner=Port.UNATTACHED, instance_id=None, host=None, hostname="", device_index=None
    )
    return reached


def release_ports(instance_id):
    """Everything the instance held on networks, let go: the end of its delete. Returns the hosts to sync."""
    return _detach(list(Port.objects.select_for_update().filter(instance_id=instance_id)))


def nic_port(instance_id, port_id, *, lock=False):
    """One of the instance's NICs by its port id, or 400 port_not_found."""
    try:
        port_id = uuid.UUID(str(port_id))
    except ValueError:
        port_id = None
    ports = Port.objects.filter(instance_id=instance_id, pk=port_id)
    port = (ports.select_for_update() if lock else ports).first()
    if port is None:
        raise ValidationFailed(f"The instance has no port {port_id}.", code="port_not_found")
    return port


def detach_port(instance_id, port_id):
    """Let go of one NIC of the instance (a detach-interface done); (the port, hosts to sync)."""
    port = nic_port(instance_id, port_id, lock=True)
    return port, _detach([port])
