"""Job reads, scoped like everything else."""

from apps.core.scoping import visible

from .models import Job


def jobs_for(principal):
    return visible(
        Job.objects.all(),
        principal,
        "jobs.job.read",
        domain_path="domain_path",
        project="project_id",
    )
