"""Tenant-isolation cases of the quota routes (see apps/core/tests/isolation.py)."""

from apps.core.tests.isolation import Case, per_tenant, platform
from apps.quotas.models import DefaultQuota, QuotaUsage

RESOURCE = "instances"
LIMIT = {"limit": 7}


@per_tenant("api:quota-detail")
def another_tenants_project_quota(tenants):
    return Case.of(QuotaUsage.objects.get(project=tenants.other.project, resource=RESOURCE), body=LIMIT)


@per_tenant("api:quota-detail")
def another_tenants_domain_quota(tenants):
    return Case.of(QuotaUsage.objects.get(domain=tenants.other.domain, resource=RESOURCE), body=LIMIT)


@platform(
    "api:quota-default-detail",
    reason="The limits a new project starts with are one cloud-wide setting; only cloud admins set them.",
)
def a_default_project_limit(tenants):
    return Case.of(DefaultQuota.objects.create(resource=RESOURCE, limit=20), body=LIMIT, kwarg="resource")
