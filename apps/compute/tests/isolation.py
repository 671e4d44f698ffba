"""Tenant-isolation cases of the compute routes (see apps/core/tests/isolation.py)."""

from apps.compute import states
from apps.compute.services.affinity import create_affinity_group
from apps.compute.services.keypairs import create_keypair
from apps.core.tests.isolation import Case, per_tenant, platform
from apps.identity.actor import Actor
from apps.images.tests.factories import active_image

from .factories import InstanceFactory, OfferingFactory

SYSTEM = Actor.system("test")


@platform("api:offering-detail", reason="Offerings are the cloud-wide catalogue of instance sizes.")
def a_public_offering(tenants):
    offering = OfferingFactory(name="offering-of-the-platform")
    return Case(offering, {"pk": offering.pk}, body={"description": "changed"})


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
