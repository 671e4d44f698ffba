"""Snapshot of an instance to an image: the image is recorded, the instance's host exports and uploads it.

One transaction records the image (queued, through the images service, so it
counts against `images`; `image_storage_gb` is claimed when its data arrives;
marked with its instance, so its storage is metered as a snapshot),
moves the instance into `image-snapshot` and creates the job that sends
`snapshot_instance` to the host. The host PUTs the disk to the agent endpoint,
which accepts it only for a snapshot in progress of that host's own instance
(`images_host_may_write`); the image becomes active there. When the job ends
otherwise (the host failed, or the deadline passed), the image is killed.
"""

from django.db import transaction
from django.db.models import Q

from apps.images.services.records import create_image
from apps.images.services.snapshots import abandon_snapshot_image
from apps.jobs.models import Job

from .. import states
from ..models import Instance
from .lifecycle import act, job_kind

SNAPSHOT = "snapshot"
# What a snapshot keeps of its source image: it boots the same way (kernel, ramdisk) on the same hosts.
INHERITED = ("kernel", "ramdisk", "architecture", "hypervisor_type", "os_type", "isolated", "min_ram_mb")


def snapshot(actor, instance, name):
    """Start a snapshot of the instance's root disk into a new image `name`; returns (image, job).

    The source image may be gone (purged since the launch): the snapshot then inherits nothing.
    """
    source = instance.image
    inherited = {field: getattr(source, field) for field in INHERITED} if source is not None else {}
    with transaction.atomic():
        image = create_image(
            actor,
            owner=instance.project,
            name=name,
            disk_format="qcow2",
            min_disk_gb=instance.root_disk_gb,
            source_instance_id=instance.pk,
            **inherited,
        )
        job = act(actor, instance, SNAPSHOT, image_id=str(image.pk))
    return image, job


def snapshot_ended(job, succeeded):
    """The snapshot job is over: an image whose data never became active is killed with the reason."""
    if succeeded:
        reason = "The host reported the snapshot done without uploading it."
    else:
        reason = f"The snapshot failed: {job.error_code}: {job.error_message}"
    abandon_snapshot_image(job.payload["image_id"], reason)


def images_host_may_write(host):
    """The images a host may upload to: those of snapshots in progress of its own instances."""
    jobs = Job.objects.filter(
        kind=job_kind(SNAPSHOT), queue=host.queue, state__in=(Job.PENDING, Job.RUNNING)
    ).values_list("payload__instance_id", "payload__image_id")
    pairs = list(jobs)
    if not pairs:
        return Q(pk__in=[])
    taking = {
        str(pk)
        for pk in Instance.objects.filter(
            host=host, task_state=states.IMAGE_SNAPSHOT, pk__in=[i for i, _ in pairs]
        ).values_list("pk", flat=True)
    }
    return Q(pk__in=[image_id for instance_id, image_id in pairs if instance_id in taking])
