"""Attaching and detaching an instance's network interfaces, while it exists on its host.

`POST /api/v1/instances/{id}/attach-interface/` names a network (a new port is
made, and deleted with the instance) or an unattached port of the project;
`/detach-interface/` names one of its ports. Each is an instance action
(states.TRANSITIONS) carried out by its host as host work:

- attach: the port is made or attached, and its quota claimed, in the request's
  transaction, bound to the instance's host; the host pulls its network state
  (the port's filters first) and hot-plugs the NIC. If the host fails or runs
  late, the port is let go again (deleted when it was made for this);
- detach: the host unplugs the NIC; once it says so, the port is let go, and the
  hosts it reached are synced. A NIC is never unfiltered while it is plugged.
"""

from agent import protocol
from apps.audit.recorder import audited
from apps.core.errors import Conflict
from apps.identity.services.common import require
from apps.infrastructure.hostwork import dispatch
from apps.infrastructure.hostwork.kinds import work_for
from apps.networks.host_work import sync_hosts
from apps.networks.models import Port
from apps.networks.services import instance_ports
from apps.quotas import services as quotas

from . import states
from .host_work import InstanceAction
from .models import Instance
from .services.lifecycle import job_kind

ATTACH, DETACH = "attach_interface", "detach_interface"


def _nic_spec(port_id):
    port = Port.objects.get(pk=port_id)
    return protocol.NicSpec(*instance_ports.nic_of(port))


PAYLOADS = {
    ATTACH: (
        protocol.ATTACH_INTERFACE,
        lambda job, i: protocol.AttachInterface(instance_id=str(i.pk), nic=_nic_spec(job.payload["port_id"])),
    ),
    DETACH: (
        protocol.DETACH_INTERFACE,
        lambda job, i: protocol.DetachInterface(
            instance_id=str(i.pk), port_id=job.payload["port_id"], mac=job.payload["mac"]
        ),
    ),
}


def _let_go(job):
    """The port of the job leaves the instance (if it still is one of its NICs); its hosts are synced."""
    instance_id, port_id = job.payload["instance_id"], job.payload["port_id"]
    if Port.objects.filter(pk=port_id, instance_id=instance_id).exists():
        _, reached = instance_ports.detach_port(instance_id, port_id)
        sync_hosts(reached)


class InterfaceAction(InstanceAction):
    """An attach or a detach: an instance action that also lets the port go when it ends so."""

    def __init__(self, action):
        super().__init__(action, PAYLOADS)
        self.deadline_setting = "CLOUDMGR_INTERFACE_DEADLINE_SECONDS"

    def succeeded(self, job, host, result):
        super().succeeded(job, host, result)
        if self.action == DETACH:
            _let_go(job)

    def settle(self, job):
        super().settle(job)
        if self.action == ATTACH:
            _let_go(job)


INTERFACE_ACTIONS = (InterfaceAction(ATTACH), InterfaceAction(DETACH))


def _current(instance):
    current = Instance.objects.select_related("host", "project__domain").get(pk=instance.pk)
    if current.host is None:
        raise Conflict(f"Instance {instance} has no host.", code="instance_has_no_host")
    return current


def _start(actor, action, instance, payload):
    return dispatch.start(
        work_for(job_kind(payload["action"])),
        host=instance.host,
        action=action,
        payload={"instance_id": str(instance.pk), **payload},
        target=instance.target(),
        obj=instance,
        actor=actor,
    )


def attach_interface(
    actor, instance, *, network_id=None, port_id=None, fixed_ips=(), security_group_ids=None
):
    """Give the instance one more NIC; returns (the port, the job)."""
    action = f"compute.instance.{ATTACH}"
    with audited(actor, action, target=instance.target(), obj=instance) as op:
        require(actor, action, instance.target(), f"You may not attach interfaces to {instance}.")
        current = _current(instance)
        request = {"network_id": network_id, "port_id": port_id, "fixed_ips": fixed_ips}
        if security_group_ids is not None:
            request["security_group_ids"] = security_group_ids
        plan = instance_ports.plan_nics(actor, current.project, [request])
        states.begin(current, ATTACH)
        quotas.claim_all(current.project, plan.claims(), reader=actor.principal)
        [port] = instance_ports.make_nics(
            actor,
            current.project,
            plan,
            current.pk,
            current.host,
            current.name,
            first_index=instance_ports.next_device_index(current.pk),
        )
        sync_hosts(port.reached, skip={current.host_id})
        op.details = {"port": str(port.pk), "network": str(port.network_id)}
        op.platform_details = {"host": current.host.name}
        return port, _start(actor, action, current, {"action": ATTACH, "port_id": str(port.pk)})


def detach_interface(actor, instance, *, port_id):
    """Take one of the instance's NICs off it (the port goes once its host has unplugged it); the job."""
    action = f"compute.instance.{DETACH}"
    with audited(actor, action, target=instance.target(), obj=instance) as op:
        require(actor, action, instance.target(), f"You may not detach interfaces from {instance}.")
        current = _current(instance)
        port = instance_ports.nic_port(current.pk, port_id)
        states.begin(current, DETACH)
        op.details = {"port": str(port.pk)}
        op.platform_details = {"host": current.host.name}
        payload = {"action": DETACH, "port_id": str(port.pk), "mac": port.mac_address}
        return _start(actor, action, current, payload)
