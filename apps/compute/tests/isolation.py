"""Tenant-isolation cases of the compute routes (see apps/core/tests/isolation.py)."""

from apps.compute import states
from apps.compute.services.affinity import create_affinity_group
from apps.compute.services.keypairs import create_keypair
from apps.core.actor import Actor
from apps.core.tests.isolation import Case, per_tenant, platform
from apps.images.tests.factories import active_image
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory
from apps.networks.tests.factories import network_node, nics_for, project_network, vlan_pool

from ..models import Migration
from .factories import InstanceFactory, OfferingFactory, movable_host, resized_instance

SYSTEM = Actor.system("test")


@platform("api:offering-detail", reason="Offerings are the cloud-wide catalogue of instance sizes.")
def a_public_offering(tenants):
    offering = OfferingFactory(name="offering-of-the-platform")
    return Case(offering, {"pk": offering.pk}, body={"description": "changed"})


@per_tenant(
    "compute:offering-detail",
    "compute:offering-update",
    "compute:offering-switch",
    "compute:offering-delete",
)
def an_offering_restricted_to_another_tenants_domain(tenants):
    offering = OfferingFactory(name="offering-of-tenant-b", public=False)
    offering.domains.set([tenants.other.domain])
    body = {"name": offering.name, "domains": str(tenants.other.domain.pk), "enabled": "on", "op": "disable"}
    return Case(offering, {"offering_id": offering.pk}, body=body)


@per_tenant("compute:image-prefetch")
def another_tenants_image_to_fetch_into_a_hosts_cache(tenants):
    image = active_image(tenants.other.project, name="image-of-tenant-b")
    host = HostFactory(name="host-of-the-platform")
    return Case(image, {"image_id": image.pk}, body={"hosts": str(host.pk)})


@per_tenant("api:keypair-detail")
def another_tenants_keypair(tenants):
    keypair, _ = create_keypair(SYSTEM, tenants.other.project, name="keypair-of-tenant-b")
    return Case(keypair, {"pk": keypair.pk})


@per_tenant("api:affinity-group-detail")
def another_tenants_affinity_group(tenants):
    group = create_affinity_group(SYSTEM, tenants.other.project, name="group-of-tenant-b", policy="affinity")
    return Case(group, {"pk": group.pk})


def _instance(tenants, vm_state=states.ACTIVE):
    return InstanceFactory(project=tenants.other.project, name="instance-of-tenant-b", vm_state=vm_state)


def _case(instance, **body):
    return Case(instance, {"pk": instance.pk}, body=body)


@per_tenant("api:instance-detail", "api:instance-stop", "api:instance-reboot", "api:instance-pause")
@per_tenant("api:instance-console-log")
@per_tenant("api:instance-suspend")
def another_tenants_active_instance(tenants):
    return _case(_instance(tenants))


@per_tenant("api:instance-snapshot")
def another_tenants_instance_snapshotted_into_their_project(tenants):
    return _case(_instance(tenants), name="snapshot-taken-by-tenant-a")


@per_tenant("api:instance-start")
def another_tenants_stopped_instance(tenants):
    return _case(_instance(tenants, states.STOPPED))


@per_tenant("api:instance-unpause")
def another_tenants_paused_instance(tenants):
    return _case(_instance(tenants, states.PAUSED))


@per_tenant("api:instance-resume")
def another_tenants_suspended_instance(tenants):
    return _case(_instance(tenants, states.SUSPENDED))


@per_tenant("api:instance-rebuild")
def another_tenants_instance_rebuilt_from_their_image(tenants):
    image = active_image(tenants.other.project, name="image-of-tenant-b")
    return _case(_instance(tenants), image_id=str(image.pk))


@per_tenant(
    "compute:instance-list", "compute:instance-rows", "compute:keypair-list", "compute:keypair-create"
)
@per_tenant("compute:affinity-group-list", "compute:affinity-group-create")
def another_tenants_project_compute_pages(tenants):
    project = tenants.other.project
    body = {"name": "taken-over", "key_type": "ed25519", "policy": "affinity"}
    return Case(project, {"project_id": project.pk}, body=body)


@per_tenant("compute:instance-launch")
def another_tenants_project_launch_page(tenants):
    project = tenants.other.project
    HostFactory()
    image = active_image(project, name="image-of-tenant-b")
    offering = OfferingFactory(name="offering-for-tenant-b")
    body = {"name": "launched", "image_id": str(image.pk), "offering_id": str(offering.pk)}
    return Case(project, {"project_id": project.pk}, body=body)


def _page_case(instance, **body):
    return Case(instance, {"project_id": instance.project_id, "instance_id": instance.pk}, body=body)


@per_tenant("compute:instance-detail", "compute:instance-state", "compute:instance-console")
def another_tenants_instance_page(tenants):
    return _page_case(_instance(tenants))


@per_tenant("compute:instance-snapshot")
def another_tenants_instance_to_snapshot_from_a_page(tenants):
    return _page_case(_instance(tenants), **{"snapshot-name": "snapshot-taken-by-tenant-a"})


@per_tenant("compute:instance-action")
def another_tenants_instance_to_stop_from_a_page(tenants):
    return _page_case(_instance(tenants), op="stop")


@per_tenant("compute:instance-rebuild")
def another_tenants_instance_to_rebuild_from_a_page(tenants):
    image = active_image(tenants.other.project, name="image-of-tenant-b")
    return _page_case(_instance(tenants), **{"rebuild-image_id": str(image.pk), "rebuild-confirm": "on"})


@per_tenant("compute:instance-delete")
def another_tenants_instance_to_delete_from_a_page(tenants):
    return _page_case(_instance(tenants))


def _admin_case(instance, **body):
    return Case(instance, {"instance_id": instance.pk}, body=body)


@per_tenant("compute:admin-instance-detail", "compute:admin-instance-state", "compute:admin-instance-delete")
def another_tenants_instance_on_its_admin_page(tenants):
    return _admin_case(_instance(tenants))


@per_tenant("compute:admin-instance-action")
def another_tenants_instance_to_stop_from_its_admin_page(tenants):
    return _admin_case(_instance(tenants), op="stop")


@per_tenant("compute:admin-instance-rebuild")
def another_tenants_instance_to_rebuild_from_its_admin_page(tenants):
    image = active_image(tenants.other.project, name="image-of-tenant-b")
    return _admin_case(_instance(tenants), **{"rebuild-image_id": str(image.pk), "rebuild-confirm": "on"})


@per_tenant("compute:admin-instance-snapshot")
def another_tenants_instance_to_snapshot_from_its_admin_page(tenants):
    return _admin_case(_instance(tenants), **{"snapshot-name": "snapshot-taken-by-tenant-a"})


@per_tenant("compute:keypair-delete")
def another_tenants_keypair_on_its_page(tenants):
    keypair, _ = create_keypair(SYSTEM, tenants.other.project, name="keypair-of-tenant-b")
    return Case(keypair, {"project_id": tenants.other.project.pk, "keypair_id": keypair.pk})


@per_tenant("compute:affinity-group-delete")
def another_tenants_affinity_group_on_its_page(tenants):
    group = create_affinity_group(SYSTEM, tenants.other.project, name="group-of-tenant-b", policy="affinity")
    return Case(group, {"project_id": tenants.other.project.pk, "group_id": group.pk})


def _movable_instance(tenants, host=None, **fields):
    """Another tenant's instance on a host that moves, with a second such host, in its zone, to move it to."""
    host = host or movable_host()
    movable_host(zone=host.zone)
    image = active_image(tenants.other.project, name="image-of-tenant-b")
    return InstanceFactory(
        project=tenants.other.project, name="instance-of-tenant-b", host=host, image=image, **fields
    )


@per_tenant("api:instance-migrate", "api:instance-live-migrate")
def another_tenants_instance_to_move(tenants):
    return _case(_movable_instance(tenants))


@per_tenant("api:instance-resize")
def another_tenants_instance_to_resize(tenants):
    larger = OfferingFactory(name="offering-to-grow-into", vcpus=2, ram_mb=2048, root_disk_gb=20)
    return _case(_movable_instance(tenants), offering_id=str(larger.pk))


@per_tenant("api:instance-confirm-resize", "api:instance-revert-resize")
def another_tenants_resized_instance(tenants):
    host = movable_host()
    image = active_image(tenants.other.project, name="image-of-tenant-b")
    instance = resized_instance(
        movable_host(zone=host.zone),
        old=OfferingFactory(name="offering-it-left"),
        project=tenants.other.project,
        name="instance-of-tenant-b",
        host=host,
        image=image,
    )
    return _case(instance)


@per_tenant("api:instance-evacuate")
def another_tenants_instance_of_a_fenced_host(tenants):
    fenced = movable_host(state=Host.FENCED)
    return _case(_movable_instance(tenants, host=fenced))


@platform("api:migration-detail", reason="Moves name hosts: only cloud admins see them.")
def a_migration(tenants):
    instance = _movable_instance(tenants)
    migration = Migration.objects.create(
        instance=instance,
        kind=Migration.COLD,
        status=states.DONE,
        source=instance.host,
        source_name=instance.host.name,
        old_offering=instance.offering,
        new_offering=instance.offering,
        vm_state_before=states.ACTIVE,
    )
    return Case.of(migration)


@per_tenant("compute:admin-instance-move")
def another_tenants_instance_to_move_from_its_hosts_page(tenants):
    instance = _movable_instance(tenants)
    return Case(instance, {"instance_id": instance.pk}, body={"op": "migrate"})


@platform("compute:admin-host-drain", reason="A host's drain names hosts: only cloud admins see it.")
def a_host_in_maintenance(tenants):
    host = HostFactory(name="host-in-maintenance", maintenance=True)
    return Case(host, {"host_id": host.pk})


@per_tenant("api:instance-attach-interface")
def another_tenants_instance_given_a_nic_on_its_network(tenants):
    instance = _instance(tenants)
    return _case(instance, network_id=str(_network_of(instance).pk))


def _instance_with_a_nic(tenants):
    instance = _instance(tenants)
    network = _network_of(instance)
    [port] = nics_for(tenants.other.project, [{"network_id": network.pk}], instance, instance.host)
    return instance, port


@per_tenant("api:instance-detach-interface")
def another_tenants_instance_losing_its_nic(tenants):
    instance, port = _instance_with_a_nic(tenants)
    return _case(instance, port_id=str(port.pk))


@per_tenant("compute:instance-detach-interface")
def another_tenants_instance_losing_its_nic_from_a_page(tenants):
    instance, port = _instance_with_a_nic(tenants)
    return Case(instance, {"project_id": instance.project_id, "instance_id": instance.pk, "port_id": port.pk})


@per_tenant("compute:instance-attach-interface")
def another_tenants_instance_to_give_a_nic_from_a_page(tenants):
    instance = _instance(tenants)
    return _page_case(instance, **{"interface-network_id": str(_network_of(instance).pk)})


@per_tenant("agent:metadata-for-host")
def another_tenants_instance_metadata_at_the_agents_path(tenants):
    instance = _instance(tenants)
    # Only a host's signed GET is answered, and only about its own instances (test_instance_metadata.py).
    return Case(instance, {"instance_id": instance.pk}, host_only_methods=("GET",))


def _network_of(instance):
    """A network of tenant B in its instance's zone (with a network node and a VLAN pool there)."""
    zone = instance.host.zone
    if not zone.vlan_pools.exists():
        network_node(zone)
        vlan_pool(zone)
    return project_network(instance.project, zone, name="network-of-tenant-b")
