"""Sending host work: the job is recorded with the caller's intent, its step is sent after that commits.

The task is built from the database when it is sent ("make the host look like
this": the whole instance spec for a spawn or rebuild), signed, and put on the
queue of the host the job's step runs on; then the step is marked dispatched.
If the broker cannot take it, the step stays undispatched and the periodic
dispatcher sends it again, whatever its kind or step (a controller that died
between a commit and its send leaves the same); a task that arrives twice does
no harm (the agent's journal knows its task id).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import KombuError

from apps.jobs import services as jobs
from apps.jobs.models import Job

from ..wire import send_task
from .kinds import host_kinds, work_for

log = logging.getLogger(__name__)


def start(work, *, host, payload, action="", target=None, obj=None, actor=None, subject=None):
    """Record a job of `work` whose first step runs on `host`, sent after commit; returns the job.

    Call inside the transaction that records the intent. `subject`, when given, is
    what the steps are built from as the transaction wrote it (work.subject(job)),
    so it is not read back to send the first step. `action` is the policy action the
    job carries out: its result is shown only to those who may perform it.
    """
    job = jobs.create_job(
        work.kind,
        action=action,
        queue=host.queue,
        payload=payload,
        target=target,
        obj=obj,
        actor=actor,
        deadline_s=work.deadline_seconds(),
    )
    send_on_commit(job, subject)
    return job


def send_on_commit(job, subject=None):
    """Send the job's current step once the surrounding transaction commits; nothing on a rollback.

    Robust: a failure to send is logged and left to the periodic dispatcher, never
    turned into an error for a request whose work is already committed.
    """

    def send_committed_step():
        # The step was recorded in the transaction that just committed: pending and unsent.
        send(job.pk, job, subject)

    transaction.on_commit(send_committed_step, robust=True)


def send(job_id, job=None, subject=None):
    """Sign the job's current step and put it on its host's queue; True when the broker took it.

    `job` is the row as its writer holds it; without it, the job is read and sent only if still unsent.
    `subject` is what the step is built from as its writer holds it; without it, it is read.
    """
    if job is None:
        job = Job.objects.filter(pk=job_id, state=Job.PENDING, dispatched_at__isnull=True).first()
    work = work_for(job.kind) if job is not None else None
    if work is None:
        return False
    step = work.steps[job.step]
    if subject is None:
        subject = work.subject(job)
    host = step.host(job, subject) if subject is not None else None
    if host is None or host.queue != job.queue:
        log.error("job %s: step %d has no host on %s any more; not sent", job_id, job.step, job.queue)
        return False
    try:
        send_task(
            host,
            step.task,
            task_id=job.task_id,
            payload=step.payload(job, subject),
            expires_at=job.deadline,
        )
    except (KombuError, OSError) as error:
        log.warning("job %s: the broker did not take the task (%s); the dispatcher will retry", job_id, error)
        return False
    Job.objects.filter(pk=job.pk, step=job.step, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now()
    )
    return True


def redispatch_jobs():
    """Send the host jobs' steps whose send after commit did not reach the broker; returns how many went."""
    now = timezone.now()
    due_before = now - timedelta(seconds=settings.CLOUDMGR_REDISPATCH_AFTER_SECONDS)
    waiting = Job.objects.filter(
        Q(step_began_at__isnull=True, created_at__lt=due_before) | Q(step_began_at__lt=due_before),
        kind__in=host_kinds(),
        state=Job.PENDING,
        dispatched_at__isnull=True,
        deadline__gt=now,
    ).values_list("pk", flat=True)
    return sum(send(job_id) for job_id in list(waiting))
