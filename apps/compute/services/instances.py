"""Creating an instance: validate, claim quota, place, record the instance, its NICs and its spawn job,
all at once.

Everything happens in the request's one transaction: a refusal at any step
(quota, no valid host, a bad reference, an exhausted network) leaves nothing
behind. The spawn task goes to the host's agent only after the commit
(apps/infrastructure/hostwork/dispatch.py); the host pulls its network state,
new ports included, before it plugs the NICs in; other hosts the ports reach (a
DHCP server elsewhere, hosts filtering on their groups) get a sync.
"""

from apps.audit.recorder import audited
from apps.compute.launch_images import launch_image, traits
from apps.identity.services.common import require
from apps.infrastructure.capacity import Amounts
from apps.infrastructure.hostwork import dispatch
from apps.infrastructure.hostwork.kinds import work_for
from apps.infrastructure.selectors import sees_hosts
from apps.networks.host_work import sync_hosts
from apps.networks.selectors import nic_addresses
from apps.networks.services import instance_ports
from apps.quotas import services as quotas

from .. import states
from ..models import Instance
from ..scheduler.placement import place
from ..scheduler.request import PlacementRequest
from . import launch

SPAWN_JOB = "compute.instance.spawn"


def create_instance(
    actor,
    project,
    *,
    name,
    offering_id,
    image_id,
    keypair_id=None,
    user_data=b"",
    zone_id=None,
    affinity_group_id=None,
    scheduler_hints=None,
    networks=None,
    config_drive=False,
):
    """Launch an instance in `project`; returns (instance, spawn job). The instance is building/spawning.

    `networks`: its NICs ([{"network_id"} or {"port_id"}]); None: the project's one usable network.
    """
    action = "compute.instance.create"
    with audited(actor, action, target=project.target()) as op:
        require(actor, action, project.target(), f"You may not launch instances in project {project}.")
        name = launch.checked_name(name)
        user_data = launch.checked_user_data(user_data)
        offering = launch.offering_for(project, offering_id)
        image = launch_image(actor, image_id, project, offering)
        keypair = launch.keypair_for(project, keypair_id)
        zone = launch.zone_for(zone_id)
        hints = launch.placement_hints(actor.principal, scheduler_hints)
        group = launch.locked_group(project, affinity_group_id)
        nics = instance_ports.plan_nics(actor, project, networks)
        zone_id = launch.zone_of_networks(zone, nics.zone_ids)

        # Recorded once placed: quota claims and allocations name it by id, with no foreign key to wait on.
        instance = Instance(
            name=name,
            project=project,
            created_by_id=actor.user.pk if actor.user is not None else None,
            offering=offering,
            image=image,
            keypair=keypair,
            ssh_public_key=keypair.public_key if keypair else "",
            user_data=user_data,
            affinity_group=group,
            scheduler_hints=scheduler_hints or {},
            zone=zone,
            vcpus=offering.vcpus,
            ram_mb=offering.ram_mb,
            root_disk_gb=offering.root_disk_gb,
            ephemeral_disk_gb=offering.ephemeral_disk_gb,
            config_drive=bool(config_drive) or offering.config_drive or nics.on_flat_network,
        )
        op.object = instance
        quotas.claim_all(project, [(instance, instance.quota()), *nics.claims()], reader=actor.principal)
        host = place(
            PlacementRequest(
                consumer_id=instance.pk,
                amounts=Amounts(instance.vcpus, instance.ram_mb, instance.disk_gb),
                zone_id=zone_id,
                host_tags=tuple(offering.host_tags),
                image=traits(image),
                same_host=hints["same_host"],
                different_host=hints["different_host"],
                near_network=hints["near_network"],
                group_policy=group.policy if group else None,
                group_hosts=launch.group_hosts(group),
                physical_networks=nics.physical_networks,
            ),
            explain=sees_hosts(actor.principal),
        )
        instance.host, instance.zone = host, host.zone
        instance.vm_state, instance.task_state = states.placed_for("spawn")
        instance.save(force_insert=True)
        ports = instance_ports.make_nics(actor, project, nics, instance.pk, host, instance.name)
        instance.nics = [instance_ports.nic_of(port) for port in ports]
        instance.addresses = [nic_addresses(port, port.fixed_ips) for port in ports]
        sync_hosts(set().union(*(port.reached for port in ports)), skip={host.pk})
        op.details = {"offering": offering.name, "image": str(image.pk)}
        op.platform_details = {"host": host.name}
        job = dispatch.start(
            work_for(SPAWN_JOB),
            host=host,
            action=action,
            payload={"instance_id": str(instance.pk), "action": "spawn"},
            target=project.target(),
            obj=instance,
            actor=actor,
            subject=instance,
        )
    return instance, job
