"""Tenant-isolation cases of the monitoring routes (see apps/core/tests/isolation.py)."""

from apps.compute.tests.factories import InstanceFactory
from apps.core.tests.isolation import Case, per_tenant, platform
from apps.infrastructure.tests.factories import HostFactory


@per_tenant("api:metrics-instance")
def another_tenants_instance_metrics(tenants):
    return Case.of(InstanceFactory(project=tenants.other.project, name="instance-of-tenant-b"))


@platform(
    "api:metrics-host", reason="Hosts belong to the cloud, not to a tenant: only cloud admins see them."
)
def a_hosts_metrics(tenants):
    return Case.of(HostFactory(name="host-of-the-platform"))
