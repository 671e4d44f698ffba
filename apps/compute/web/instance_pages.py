"""What an instance's two pages share: its project's dashboard page and the admin portal's page.

Both show the state with the actions it allows (polled while one runs), the last
action's job, the rebuild and snapshot forms, and the delete behind a
confirmation; they differ in their addresses (`InstancePages`) and frame.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from apps.core.errors import PermissionDenied, ServiceError
from apps.core.web.flow import Confirmation, confirmed, handled
from apps.images.selectors import images_for
from apps.jobs.selectors import jobs_for

from ..services import lifecycle, snapshots
from . import buttons
from .forms import RebuildForm, SnapshotForm

DASHBOARD, ADMIN = "dashboard", "admin"
# Both pages' name for the sections other apps add to them (apps/core/web/sections.py).
INSTANCE_PAGE = "compute.instance"


class InstancePages:
    """The addresses one page of an instance uses: the dashboard's (with its project) or the admin's."""

    def __init__(self, area, instance):
        self.area = area
        self.project_id = instance.project_id
        self.instance_id = instance.pk

    def _url(self, name, *args):
        if self.area == DASHBOARD:
            return reverse(f"compute:instance-{name}", args=[self.project_id, self.instance_id, *args])
        return reverse(f"compute:admin-instance-{name}", args=[self.instance_id, *args])

    @property
    def detail(self):
        return self._url("detail")

    @property
    def state(self):
        return self._url("state")

    @property
    def action(self):
        return self._url("action")

    @property
    def delete(self):
        return self._url("delete")

    @property
    def rebuild(self):
        return self._url("rebuild")

    @property
    def snapshot(self):
        return self._url("snapshot")

    def image(self, image):
        if self.area == DASHBOARD:
            return reverse("images:image-detail", args=[self.project_id, image.pk])
        return reverse("images:admin-image-detail", args=[image.pk])


def latest_job(request, instance):
    """The instance's most recent action job (console reads are not actions)."""
    return instance_jobs(request, instance).first()


def instance_jobs(request, instance):
    """The instance's action jobs the person may see, newest first."""
    return (
        jobs_for(request.actor.principal)
        .filter(object_id=str(instance.pk))
        .exclude(kind=lifecycle.job_kind(lifecycle.CONSOLE_LOG))
        .order_by("-created_at")
    )


def _snapshot_image(scoped, job):
    """The image the latest action saves the disk into, when that action is a snapshot."""
    if job is None or job.kind != lifecycle.job_kind(snapshots.SNAPSHOT):
        return None
    return images_for(scoped).filter(pk=job.payload["image_id"]).first()


def state_context(scoped, instance, job, pages, snapshot_form=None):
    """The polled part of a page: state, the actions it allows now, the last snapshot's image."""
    image = _snapshot_image(scoped, job)
    return {
        "instance": instance,
        "pages": pages,
        "buttons": buttons.buttons_for(instance),
        "can_delete": buttons.can_delete(instance),
        "can_rebuild": buttons.can_rebuild(instance),
        "can_snapshot": buttons.can_snapshot(instance),
        "snapshot_form": snapshot_form or SnapshotForm(prefix="snapshot"),
        "snapshot_image": image,
        "snapshot_image_url": pages.image(image) if image is not None else "",
    }


def start_action(request, instance, pages):
    """Start a button's action; a refusal (the state moved on meanwhile) is said in a message on the page."""
    button = buttons.known(request.POST.get("op"))
    try:
        buttons.perform(request.actor, instance, button.op)
    except PermissionDenied:
        raise
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{button.label}: started on {instance.name}; the progress shows below.")
    return redirect(pages.detail)


def delete_confirmed(request, instance, pages, *, done, project=None):
    """GET: what deleting destroys; POST: delete (the host destroys the guest and its disks)."""
    disks, on = f"{instance.root_disk_gb} GB root disk", "it"
    if instance.ephemeral_disk_gb:
        disks, on = f"{disks} and {instance.ephemeral_disk_gb} GB ephemeral disk", "them"
    confirmation = Confirmation(
        title=f"Delete instance {instance.name}?",
        button=f"Delete {instance.name}",
        consequences=(
            f"The guest is powered off and destroyed on its host, with its {disks}: what is on {on}"
            " cannot be recovered. Images saved from it by snapshots stay.",
            "Its quota and host capacity are given back once the host confirms.",
        ),
        cancel=pages.detail,
    )
    return confirmed(
        request,
        confirmation,
        lambda: lifecycle.act(request.actor, instance, "delete"),
        done=done,
        kept=pages.detail,
        message=f"Deleting {instance.name}: it is gone once its host confirms.",
        area=pages.area,
        project=project,
    )


def rebuild_submitted(request, scoped, instance, pages, refused):
    """`refused(form)` renders the page again with the form's errors."""
    return handled(
        request,
        RebuildForm(scoped, request.POST, prefix="rebuild"),
        lambda values: lifecycle.rebuild(request.actor, instance, values["image_id"].pk),
        done=pages.detail,
        message=f"Rebuilding {instance.name}: the progress shows below.",
        failed=refused,
        page=pages.detail,
    )


def snapshot_submitted(request, instance, pages, refused):
    """Save the root disk into a new image of the instance's project; the page shows the job and image."""
    return handled(
        request,
        SnapshotForm(request.POST, prefix="snapshot"),
        lambda values: snapshots.snapshot(request.actor, instance, values["name"])[0],
        done=pages.detail,
        message=lambda image: (
            f"Snapshot of {instance.name} into image {image.name} started: the progress shows below."
        ),
        failed=refused,
        page=pages.detail,
    )
