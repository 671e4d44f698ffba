"""Job life: create, take (SKIP LOCKED), report progress, finish, release, sweep overdue.

Every state change is a compare-and-set UPDATE; whoever wins the update owns
the consequence, so a job is finished and settled exactly once even with
several controllers sweeping at the same time.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.tree import ROOT_PATH

from .background import DATABASE_OUTAGES
from .models import Job
from .registry import handler_for

log = logging.getLogger(__name__)


def create_job(
    kind, *, action="", payload=None, queue=Job.CONTROLLER, target=None, obj=None, actor=None, deadline_s=None
):
    """Record a job; call inside the transaction that records the intent it carries out.

    `action` is the policy action the job carries out (what the actor was allowed to do):
    only those who may perform it on the job's target see its result. A job that names
    none shows its result to cloud admins only.
    """
    now = timezone.now()
    seconds = deadline_s or settings.CLOUDMGR_JOB_DEFAULT_DEADLINE_SECONDS
    return Job.objects.create(
        kind=kind,
        action=action,
        queue=queue,
        payload=payload or {},
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        domain_path=target.domain_path if target is not None else ROOT_PATH,
        project_id=target.project_id if target is not None else None,
        created_by_id=actor.user.pk if actor is not None and actor.user is not None else None,
        deadline=now + timedelta(seconds=seconds),
    )


def take_next(worker_name, queue=Job.CONTROLLER):
    """Claim the oldest runnable job of a queue for this worker, or return None."""
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(queue=queue, state=Job.PENDING, deadline__gt=timezone.now())
            .filter(Q(run_after__isnull=True) | Q(run_after__lte=timezone.now()))
            .order_by("created_at")
            .first()
        )
        if job is None:
            return None
        job.state = Job.RUNNING
        job.taken_by = worker_name
        job.started_at = job.started_at or timezone.now()
        job.attempts += 1
        job.save(update_fields=["state", "taken_by", "started_at", "attempts"])
        return job


def _running(job_id, taken_by):
    """The job while it runs, and while `taken_by` (when given) still holds it."""
    jobs = Job.objects.filter(id=job_id, state=Job.RUNNING)
    return jobs.filter(taken_by=taken_by) if taken_by else jobs


def report_progress(job_id, percent, message="", *, taken_by=None):
    """Progress only moves while the job runs; a late report about a finished job is dropped.

    With `taken_by`, a report from a worker that no longer holds the job (it was
    released and taken by another) is dropped too.
    """
    return _running(job_id, taken_by).update(
        progress=max(0, min(100, int(percent))), progress_message=message[:255]
    )


def succeed(job_id, result=None, *, taken_by=None):
    return _running(job_id, taken_by).update(
        state=Job.SUCCEEDED, progress=100, result=result, finished_at=timezone.now()
    )


def fail(job_id, code, message, *, taken_by=None, from_states=(Job.PENDING, Job.RUNNING)):
    """Fail a job once: the winner of the update settles what the job held, in one transaction."""
    with transaction.atomic():
        filters = {"id": job_id, "state__in": from_states}
        if taken_by:
            filters["taken_by"] = taken_by
        won = Job.objects.filter(**filters).update(
            state=Job.FAILED,
            error_code=code,
            error_message=message[:1024],
            finished_at=timezone.now(),
        )
        if won:
            job = Job.objects.get(id=job_id)
            handler = handler_for(job.kind)
            if handler is not None and handler.settle is not None:
                handler.settle(job)
        return bool(won)


def release(worker_name):
    """Give back the jobs this worker took and did not finish, for another controller to run."""
    return Job.objects.filter(state=Job.RUNNING, taken_by=worker_name).update(state=Job.PENDING, taken_by="")


def sweep_overdue(now=None):
    """Fail every unfinished job past its deadline; returns how many this call failed."""
    now = now or timezone.now()
    overdue = Job.objects.filter(state__in=(Job.PENDING, Job.RUNNING), deadline__lte=now).values_list(
        "id", flat=True
    )
    return sum(_fail_overdue(job_id) for job_id in list(overdue))


def _fail_overdue(job_id):
    try:
        return fail(job_id, "deadline_exceeded", "The job did not finish before its deadline.")
    except DATABASE_OUTAGES:
        raise
    except Exception:
        # One job whose settlement breaks must not keep every other overdue job from failing.
        log.exception("job %s: could not fail it at its deadline", job_id)
        return False
