"""What a host's task report does to its job, the same for every kind of host work.

The agent endpoint has checked the signature and found the job by the task id
the report names, on the reporting host's queue: so the report is about the
step in flight, from the host that step went to. Here the report must also name
that step's task and pass its kind's checks. Then:

- running, progress: the job runs (compare-and-set updates that each stand alone,
  applied in autocommit);
- failed: the job fails once, and its kind settles it in that transaction;
- succeeded, last step: the job succeeds once, and its kind records the outcome;
- succeeded, earlier step: the job moves to its next step, compare-and-set on
  the job and the step it was in, and that step is sent after commit.

A report that arrives twice, or late, finds its step over: it changes nothing.
"""

import uuid

from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from agent import protocol
from apps.jobs import services as jobs
from apps.jobs.models import Job

from .dispatch import send_on_commit
from .kinds import refused, work_for


def apply_report(job, host, report):
    """Apply a TaskReport about `job`, whose step in flight went to `host`; refused(...) if not the host's."""
    work = work_for(job.kind)
    if work is None:
        raise refused(f"Task {report.task_id} was not sent to host {host.name}.")
    step = work.steps[job.step]
    if report.task != step.task:
        raise refused(f"Task {report.task_id} is a {step.task}, not a {report.task}.")
    work.check_report(job, host, report)
    if report.state in ("running", "progress"):
        mark_running(job, host)
        if report.state == "progress":
            jobs.report_progress(job.pk, report.progress, report.message)
        return
    if report.state == "failed":
        jobs.fail(job.pk, report.error.code, report.error.message)
        return
    result = protocol.parse_result(report.task, report.result or {})
    work.check_result(job, result)
    mark_running(job, host)
    if job.step + 1 < len(work.steps):
        _advance(work, job, host, result)
    elif jobs.succeed(job.pk, report.result):
        work.succeeded(job, host, result)


def mark_running(job, host):
    # The job was read at the start of this request: once running, the update would change nothing.
    if job.state != Job.PENDING:
        return
    Job.objects.filter(pk=job.pk, step=job.step, state=Job.PENDING).update(
        state=Job.RUNNING, started_at=Coalesce("started_at", Now()), taken_by=host.queue
    )


def _advance(work, job, host, result):
    """Move the job from its step to the next, once; that step is sent after commit."""
    subject = work.subject(job)
    following = work.steps[job.step + 1].host(job, subject) if subject is not None else None
    if following is None:
        jobs.fail(job.pk, "no_host", f"Step {job.step + 2} of job {job.pk} has no host to run on.")
        return
    changes = {
        "step": job.step + 1,
        "task_id": uuid.uuid4(),
        "queue": following.queue,
        "state": Job.PENDING,
        "dispatched_at": None,
        "step_began_at": timezone.now(),
        "taken_by": "",
    }
    moved = Job.objects.filter(pk=job.pk, step=job.step, state__in=(Job.PENDING, Job.RUNNING)).update(
        **changes
    )
    if not moved:
        return
    work.step_succeeded(job, host, result)
    for field, value in changes.items():
        setattr(job, field, value)
    send_on_commit(job, subject)
