"""Factories for compute objects; an InstanceFactory instance is active on a host, holding its quota
(but no host capacity)."""

import factory

from apps.compute import states
from apps.compute.models import AffinityGroup, Instance, ServiceOffering
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
