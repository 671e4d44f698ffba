"""Warming hosts' image caches ahead of launches: one `prefetch_image` job per host.

A kind of host work (apps.infrastructure.hostwork), like the instance actions:
signed task on `host.<name>` after commit, sent again when the broker did not
take it, a deadline, a signed report back. Its result is the agent's
PrefetchResult (image id, sha256, size, whether it was already cached), so the
job records the cache state. While a prefetch job waits or runs, the host may
fetch that image from the controller (see `images_for_prefetch`).
"""

from dataclasses import dataclass

from django.db.models import Q

from agent import protocol
from apps.audit.recorder import audited
from apps.core.errors import Conflict
from apps.core.tree import PLATFORM
from apps.identity.services.common import require
from apps.images.models import Image
from apps.infrastructure.hostwork import dispatch
from apps.infrastructure.hostwork.kinds import HostWork, Step, refused, work_for
from apps.infrastructure.models import Host
from apps.jobs.models import Job

from .host_work import image_ref

PREFETCH_JOB = "compute.prefetch_image"
PREFETCH = "compute.image.prefetch"


@dataclass(frozen=True)
class Prefetch:
    """What a prefetch task is built from: the image, and the host whose cache it warms."""

    image: Image
    host: Host


class ImagePrefetch(HostWork):
    kind = PREFETCH_JOB
    steps = (
        Step(
            task=protocol.PREFETCH_IMAGE,
            payload=lambda job, prefetch: protocol.PrefetchImage(image=image_ref(prefetch.image)),
            host=lambda job, prefetch: prefetch.host,
        ),
    )

    def subject(self, job):
        image = Image.objects.filter(pk=job.payload["image_id"]).first()
        host = Host.objects.filter(name=protocol.host_of_queue(job.queue)).first()
        return Prefetch(image, host) if image is not None and host is not None else None

    def check_result(self, job, result):
        if result.image_id != job.payload["image_id"]:
            raise refused(f"The result of task {job.pk} is about another image.")


def prefetch_image(actor, image, hosts):
    """One job per host, each sent after commit; returns the jobs."""
    with audited(actor, PREFETCH, target=PLATFORM, obj=image):
        require(actor, PREFETCH, PLATFORM, "Only cloud administrators warm host caches.")
        if image.status != Image.ACTIVE:
            raise Conflict(f"Image {image} is not active.", code="image_not_active")
        return [
            dispatch.start(
                work_for(PREFETCH_JOB),
                host=host,
                action=PREFETCH,
                payload={"image_id": str(image.pk)},
                obj=image,
                actor=actor,
                subject=Prefetch(image, host),
            )
            for host in hosts
        ]


def images_for_prefetch(host):
    """Images a waiting or running prefetch job asks this host to fetch."""
    waiting = Job.objects.filter(kind=PREFETCH_JOB, queue=host.queue, state__in=(Job.PENDING, Job.RUNNING))
    return Q(pk__in=list(waiting.values_list("object_id", flat=True)))
