"""Warming hosts' image caches ahead of launches: one `prefetch_image` job per host.

Each job travels the instance jobs' wire (signed task on `host.<name>` after
commit, a deadline, a signed report back); its result is the agent's
PrefetchResult (image id, sha256, size, whether it was already cached), so the
job records the cache state. While a prefetch job waits or runs, the host may
fetch that image from the controller (see `images_for_prefetch`).
"""

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import KombuError

from agent import protocol
from apps.audit.recorder import audited
from apps.core.errors import Conflict
from apps.identity.models import PLATFORM
from apps.identity.policy import PLATFORM_KIND, register_action
from apps.identity.services.common import require
from apps.images.models import Image
from apps.infrastructure.wire import send_task
from apps.jobs import services as jobs
from apps.jobs.models import Job

from .agent_messages import mark_running
from .dispatch import image_ref

log = logging.getLogger(__name__)

PREFETCH_JOB = "compute.prefetch_image"
PREFETCH = "compute.image.prefetch"
register_action(PREFETCH, PLATFORM_KIND, "Fetch an image into hosts' caches ahead of use")


def prefetch_image(actor, image, hosts):
    """One job per host, each sent after commit; returns the jobs."""
    with audited(actor, PREFETCH, target=PLATFORM, obj=image):
        require(actor, PREFETCH, PLATFORM, "Only cloud administrators warm host caches.")
        if image.status != Image.ACTIVE:
            raise Conflict(f"Image {image} is not active.", code="image_not_active")
        created = [
            jobs.create_job(
                PREFETCH_JOB,
                action=PREFETCH,
                payload={"image_id": str(image.pk)},
                queue=host.queue,
                obj=image,
                actor=actor,
            )
            for host in hosts
        ]
        for job, host in zip(created, hosts, strict=True):
            transaction.on_commit(lambda j=job, h=host: _send(j, h, image), robust=True)
        return created


def _send(job, host, image):
    try:
        send_task(
            host,
            protocol.PREFETCH_IMAGE,
            task_id=job.pk,
            payload=protocol.PrefetchImage(image=image_ref(image)),
            expires_at=job.deadline,
        )
    except (KombuError, OSError) as error:
        jobs.fail(job.pk, "broker_unavailable", f"The broker did not take the task: {error}")
        return
    Job.objects.filter(pk=job.pk, dispatched_at__isnull=True).update(dispatched_at=timezone.now())


def handle_report(job, host, report):
    """A prefetch job's report from its host: progress, failure, or the cache state as the result."""
    if report.task != protocol.PREFETCH_IMAGE:
        raise Conflict(f"Task {job.pk} is a prefetch, not a {report.task}.", code="not_this_hosts_task")
    if report.state == "failed":
        jobs.fail(job.pk, report.error.code, report.error.message)
        return
    mark_running(job, host)
    if report.state == "progress":
        jobs.report_progress(job.pk, report.progress, report.message)
    if report.state != "succeeded":
        return
    result = protocol.parse_result(report.task, report.result or {})
    if result.image_id != job.payload["image_id"]:
        raise Conflict(f"The result of task {job.pk} is about another image.", code="not_this_hosts_task")
    jobs.succeed(job.pk, report.result)


def images_for_prefetch(host):
    """Images a waiting or running prefetch job asks this host to fetch."""
    waiting = Job.objects.filter(kind=PREFETCH_JOB, queue=host.queue, state__in=(Job.PENDING, Job.RUNNING))
    return Q(pk__in=list(waiting.values_list("object_id", flat=True)))
