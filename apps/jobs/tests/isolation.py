"""Tenant-isolation cases of the job routes (see apps/core/tests/isolation.py)."""

from apps.core.tests.isolation import Case, per_tenant
from apps.jobs.services import create_job


@per_tenant("api:job-detail")
def a_job_of_another_tenants_project(tenants):
    project = tenants.other.project
    job = create_job("isolation.probe", target=project.target(), obj=project)
    return Case(job, {"pk": job.pk})


@per_tenant("api:job-detail")
def a_job_of_another_tenants_domain(tenants):
    domain = tenants.other.domain
    job = create_job("isolation.probe", target=domain.target(), obj=domain)
    return Case(job, {"pk": job.pk})
