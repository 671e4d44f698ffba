"""Factories for compute objects; an InstanceFactory instance is active on a host, holding its quota
(but no host capacity)."""

import factory

from apps.compute import states
from apps.compute.models import AffinityGroup, Instance, Migration, ServiceOffering
from apps.identity.tests.factories import ProjectFactory
from apps.infrastructure.tests.factories import HostFactory
from apps.quotas import services as quotas


class OfferingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceOffering

    name = factory.Sequence(lambda n: f"offering-{n}")
    vcpus = 1
    ram_mb = 1024
    root_disk_gb = 10


def movable_host(**fields):
    """A host whose agent can take part in every move (a destination the scheduler may choose)."""
    return HostFactory(
        protocol_version=2,
        tls_certificate_serial="5eed",
        transfer_port=16510,
        migration_gateway_port=16514,
        live_migration=True,
        **fields,
    )


class AffinityGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AffinityGroup

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"group-{n}")
    policy = AffinityGroup.ANTI_AFFINITY


class InstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instance
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"instance-{n}")
    project = factory.SubFactory(ProjectFactory)
    offering = factory.SubFactory(OfferingFactory)
    host = factory.SubFactory(HostFactory)
    zone = factory.LazyAttribute(lambda o: o.host.zone if o.host else None)
    vm_state = states.ACTIVE
    task_state = None
    power_state = "running"
    vcpus = factory.LazyAttribute(lambda o: o.offering.vcpus)
    ram_mb = factory.LazyAttribute(lambda o: o.offering.ram_mb)
    root_disk_gb = factory.LazyAttribute(lambda o: o.offering.root_disk_gb)

    @factory.post_generation
    def quota(instance, create, extracted, **kwargs):
        """A live instance holds its quota, as after a launch: recalcquota checks it after each test."""
        if create and instance.vm_state != states.DELETED:
            quotas.claim(instance.project, instance.quota(), instance)


def resized_instance(source, old=None, **fields):
    """An instance resting in `resized` on its (movable) host, its old copy (of offering `old`) on `source`,
    the resize awaiting a confirm or a revert."""
    old = old or OfferingFactory()
    instance = InstanceFactory(vm_state=states.RESIZED, previous_offering=old, **fields)
    Migration.objects.create(
        instance=instance,
        kind=Migration.RESIZE,
        status=states.AWAITING_CONFIRM,
        source=source,
        source_name=source.name,
        destination=instance.host,
        destination_name=instance.host.name,
        old_offering=old,
        new_offering=instance.offering,
        vm_state_before=states.ACTIVE,
    )
    return instance
