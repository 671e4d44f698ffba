"""Tenant-isolation cases of the job routes (see apps/core/tests/isolation.py)."""

from apps.core.tests.isolation import Case, per_tenant
from apps.jobs.services import create_job


@per_tenant("api:job-detail")
def a_job_of_another_tenants_project(tenants):
    project = tenants.other.project
    return Case.of(create_job("isolation.probe", target=project.target(), obj=project))


@per_tenant("api:job-detail")
def a_job_of_another_tenants_domain(tenants):
    domain = tenants.other.domain
    return Case.of(create_job("isolation.probe", target=domain.target(), obj=domain))
