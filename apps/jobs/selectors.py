"""Job reads, scoped like everything else; a job's result only for those who may perform its action."""

from apps.core.scoping import visible
from apps.core.tree import Target

from .models import Job


def jobs_for(principal):
    return visible(
        Job.objects.all(),
        principal,
        "jobs.job.read",
        domain_path="domain_path",
        project="project_id",
    )


def result_visible(principal, job):
    """Whether `principal` may read the job's result: it may perform the job's action where the job is.

    Reading a job (its state, progress, error) is not enough: a console log's text is
    the result of a `use` action that a project reader may not perform.
    """
    return principal is not None and principal.can(job.action, Target(job.domain_path, job.project_id))
