"""Dashboard pages of instances, keypairs and affinity groups, and the admin portal's list of every instance.

Thin views over the services the API calls; reads go through the scoped
selectors, with the principal narrowed to the dashboard's project.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import NotFound, PermissionDenied, ServiceError
from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled, page_of, performed
from apps.core.web.frame import dashboard_project
from apps.core.web.rendering import render_page
from apps.images.selectors import images_for
from apps.infrastructure.selectors import hosts_for, sees_hosts
from apps.jobs.models import Job
from apps.jobs.selectors import jobs_for, result_visible
from apps.jobs.services import wait_for_job
from apps.networks.selectors import addresses_of, usable_networks

from .. import selectors, states
from ..interfaces import attach_interface, detach_interface
from ..services import affinity, keypairs, lifecycle, snapshots
from ..services.instances import create_instance
from . import buttons, interfaces
from .forms import (
    AffinityGroupForm,
    AttachInterfaceForm,
    KeypairForm,
    LaunchForm,
    RebuildForm,
    SnapshotForm,
    focus_first_error,
)

CONSOLE_LOG_BYTES = 64 * 1024


def _page(request, project, template, context, status=200):
    return render_page(request, template, context, area="dashboard", project=project, status=status)


def _fragment(request, project, template, context):
    """A polled part of a page: without the frame (navigation, project switcher) a whole page needs."""
    return render(request, template, {**context, "dashboard_project": project})


def _instances(scoped):
    return selectors.instances_for(scoped).exclude(vm_state=states.DELETED)


def _detail_url(project, instance):
    return reverse("compute:instance-detail", args=[project.pk, instance.pk])


def _instance(scoped, instance_id):
    return get_or_404(selectors.instances_for(scoped), "instance", pk=instance_id)


def _rows_context(instances):
    rows = list(instances)
    addresses = addresses_of(i.pk for i in rows)
    for instance in rows:
        instance.nics = addresses.get(instance.pk, [])
    return {"instances": rows, "transitional": any(i.task_state for i in rows)}


@require_GET
@portal_view
def instance_list(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    context = {
        **_rows_context(_instances(scoped)),
        "can_launch": request.actor.can("compute.instance.create", project.target()),
    }
    return _page(request, project, "compute/dashboard/instances.html", context)


@require_GET
@portal_view
def instance_rows(request, project_id):
    """The list's rows alone, polled while any instance is in the middle of an action."""
    project, scoped = dashboard_project(request, project_id)
    return _fragment(
        request, project, "compute/dashboard/instance_rows.html", _rows_context(_instances(scoped))
    )


@require_http_methods(["GET", "POST"])
@portal_view
def instance_launch(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    if request.method == "GET":
        return _render_launch(request, project, LaunchForm(scoped, project))
    form = LaunchForm(scoped, project, request.POST)
    return handled(
        request,
        form,
        lambda values: create_instance(request.actor, project, **form.launch_arguments())[0],
        done=lambda instance: _detail_url(project, instance),
        message=lambda instance: f"Launching {instance.name}: the progress shows below.",
        failed=lambda form: _render_launch(request, project, form),
    )


def _render_launch(request, project, form):
    return _page(request, project, "compute/dashboard/launch.html", {"form": form})


def _latest_job(request, instance):
    """The instance's most recent action job (console reads are not actions)."""
    return (
        jobs_for(request.actor.principal)
        .filter(object_id=str(instance.pk))
        .exclude(kind=lifecycle.job_kind(lifecycle.CONSOLE_LOG))
        .order_by("-created_at")
        .first()
    )


def _snapshot_image(scoped, job):
    """The image the latest action saves the disk into, when that action is a snapshot."""
    if job is None or job.kind != lifecycle.job_kind(snapshots.SNAPSHOT):
        return None
    return images_for(scoped).filter(pk=job.payload["image_id"]).first()


def _state_context(request, scoped, instance, job, snapshot_form=None):
    """The polled part of the page: state, the actions it allows now, and the last snapshot's image."""
    return {
        "instance": instance,
        "buttons": buttons.buttons_for(instance),
        "can_rebuild": buttons.can_rebuild(instance),
        "can_snapshot": buttons.can_snapshot(instance),
        "snapshot_form": snapshot_form or SnapshotForm(prefix="snapshot"),
        "snapshot_image": _snapshot_image(scoped, job),
    }


@require_GET
@portal_view
def instance_detail(request, project_id, instance_id):
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    return _render_detail(request, project, scoped, instance)


def _render_detail(
    request, project, scoped, instance, *, rebuild_form=None, snapshot_form=None, interface_form=None
):
    for refused in (rebuild_form, snapshot_form, interface_form):
        if refused is not None:
            focus_first_error(refused)
    job = _latest_job(request, instance)
    context = {
        **_state_context(request, scoped, instance, job, snapshot_form),
        "job": job,
        "rebuild_form": rebuild_form or RebuildForm(scoped, prefix="rebuild"),
        **interfaces.context(request, project, instance, interface_form),
    }
    return _page(request, project, "compute/dashboard/instance.html", context)


def _render_refused(request, project, scoped, instance, **forms):
    """The page again after a refused form, with the instance as it is now (the refusal may be its state)."""
    return _render_detail(request, project, scoped, _instance(scoped, instance.pk), **forms)


@require_GET
@portal_view
def instance_state(request, project_id, instance_id):
    """The page's state and action buttons alone, polled while an action is under way."""
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    context = _state_context(request, scoped, instance, _latest_job(request, instance))
    return _fragment(request, project, "compute/dashboard/instance_state.html", context)


@require_POST
@portal_view
def instance_action(request, project_id, instance_id):
    """Start an action; a refusal (the state moved on meanwhile) is said in a message on the page."""
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    button = buttons.known(request.POST.get("op"))
    try:
        buttons.perform(request.actor, instance, button.op)
    except PermissionDenied:
        raise
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{button.label}: started on {instance.name}; the progress shows below.")
    return redirect(_detail_url(project, instance))


@require_POST
@portal_view
def instance_attach_interface(request, project_id, instance_id):
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    form = AttachInterfaceForm(usable_networks(project), request.POST, prefix="interface")
    return handled(
        request,
        form,
        lambda values: attach_interface(request.actor, instance, network_id=values["network_id"].pk)[0],
        done=_detail_url(project, instance),
        message=f"Attaching a NIC to {instance.name}: the progress shows below.",
        failed=lambda form: _render_refused(request, project, scoped, instance, interface_form=form),
    )


@require_POST
@portal_view
def instance_detach_interface(request, project_id, instance_id, port_id):
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    back = _detail_url(project, instance)
    return performed(
        request,
        lambda: detach_interface(request.actor, instance, port_id=port_id),
        done=back,
        kept=back,
        message=f"Detaching the NIC from {instance.name}: the progress shows below.",
    )


@require_POST
@portal_view
def instance_rebuild(request, project_id, instance_id):
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    form = RebuildForm(scoped, request.POST, prefix="rebuild")
    return handled(
        request,
        form,
        lambda values: lifecycle.rebuild(request.actor, instance, values["image_id"].pk),
        done=_detail_url(project, instance),
        message=f"Rebuilding {instance.name}: the progress shows below.",
        failed=lambda form: _render_refused(request, project, scoped, instance, rebuild_form=form),
    )


@require_POST
@portal_view
def instance_snapshot(request, project_id, instance_id):
    """Save the root disk into a new image of the project; the page then shows the job and the image."""
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    form = SnapshotForm(request.POST, prefix="snapshot")
    return handled(
        request,
        form,
        lambda values: snapshots.snapshot(request.actor, instance, values["name"])[0],
        done=_detail_url(project, instance),
        message=lambda image: (
            f"Snapshot of {instance.name} into image {image.name} started: the progress shows below."
        ),
        failed=lambda form: _render_refused(request, project, scoped, instance, snapshot_form=form),
    )


@require_http_methods(["GET", "POST"])
@portal_view
def instance_console(request, project_id, instance_id):
    """POST asks the host and waits a moment; the page shows the text, or the job and a link to come back.

    GET ?job=<id> shows an earlier console job of this instance (the link of an unanswered one).
    """
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    if request.method == "POST":
        job = lifecycle.request_console_log(request.actor, instance, CONSOLE_LOG_BYTES)
        job = wait_for_job(job.pk, settings.CLOUDMGR_CONSOLE_LOG_WAIT_SECONDS)
    else:
        job = _console_job(request, instance, request.GET.get("job"))
    context = {"instance": instance, "job": job, "succeeded": job is not None and job.state == Job.SUCCEEDED}
    return _page(request, project, "compute/dashboard/console.html", context)


def _console_job(request, instance, job_id):
    if not job_id:
        return None
    try:
        job_id = uuid.UUID(job_id)
    except ValueError as error:
        raise NotFound("No such console log.") from error
    jobs = jobs_for(request.actor.principal).filter(
        kind=lifecycle.job_kind(lifecycle.CONSOLE_LOG), object_id=str(instance.pk)
    )
    job = get_or_404(jobs, "job", pk=job_id)
    # The text is the result of reading the console, which a project reader may not do.
    if not result_visible(request.actor.principal, job):
        raise NotFound("No such console log.")
    return job


@require_GET
@portal_view
def keypair_list(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    return _render_keypairs(request, project, scoped, KeypairForm())


def _render_keypairs(request, project, scoped, form, private_key=None, created=None, status=200):
    context = {
        "keypairs": selectors.keypairs_for(scoped).order_by("name"),
        "form": form,
        "can_create": request.actor.can("compute.keypair.create", project.target()),
        "private_key": private_key,
        "created": created,
    }
    return _page(request, project, "compute/dashboard/keypairs.html", context, status)


@require_POST
@portal_view
def keypair_create(request, project_id):
    """A generated private key is shown in this response only: it is never stored, so never shown again."""
    project, scoped = dashboard_project(request, project_id)
    form = KeypairForm(request.POST)

    def create(data):
        return keypairs.create_keypair(
            request.actor,
            project,
            name=data["name"],
            public_key=data["public_key"] or None,
            key_type=data["key_type"],
        )

    if form.submit(create):
        keypair, private_key = form.result
        if private_key is None:
            messages.success(request, f"Keypair {keypair.name} imported.")
            return redirect("compute:keypair-list", project.pk)
        return _render_keypairs(request, project, scoped, KeypairForm(), private_key, keypair)
    return _render_keypairs(request, project, scoped, form, status=form.error_status)


@require_POST
@portal_view
def keypair_delete(request, project_id, keypair_id):
    project, scoped = dashboard_project(request, project_id)
    keypair = get_or_404(selectors.keypairs_for(scoped), "keypair", pk=keypair_id)
    back = reverse("compute:keypair-list", args=[project.pk])
    return performed(
        request,
        lambda: keypairs.delete_keypair(request.actor, keypair),
        done=back,
        kept=back,
        message=f"Keypair {keypair.name} deleted; instances keep the key they were launched with.",
    )


def _affinity_groups_url(project):
    return reverse("compute:affinity-group-list", args=[project.pk])


@require_GET
@portal_view
def affinity_group_list(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    return _render_affinity_groups(request, project, scoped, AffinityGroupForm())


def _groups_with_members(scoped):
    """The project's affinity groups, each with its live instances as `members`."""
    members = Prefetch("instances", queryset=_instances(scoped).order_by("name"), to_attr="members")
    return selectors.affinity_groups_for(scoped).prefetch_related(members)


def _render_affinity_groups(request, project, scoped, form):
    context = {
        "groups": _groups_with_members(scoped).order_by("name"),
        "form": form,
        "can_create": request.actor.can("compute.affinity_group.create", project.target()),
        "can_delete": request.actor.can("compute.affinity_group.delete", project.target()),
    }
    return _page(request, project, "compute/dashboard/affinity_groups.html", context)


@require_POST
@portal_view
def affinity_group_create(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    form = AffinityGroupForm(request.POST)

    def refused(form):
        focus_first_error(form)
        return _render_affinity_groups(request, project, scoped, form)

    return handled(
        request,
        form,
        lambda values: affinity.create_affinity_group(
            request.actor, project, name=values["name"], policy=values["policy"]
        ),
        done=_affinity_groups_url(project),
        message=lambda group: f"Affinity group {group.name} ({group.policy}) created.",
        failed=refused,
    )


@require_http_methods(["GET", "POST"])
@portal_view
def affinity_group_delete(request, project_id, group_id):
    """GET asks for confirmation; POST deletes, or says why the service refused (instances still in it)."""
    project, scoped = dashboard_project(request, project_id)
    group = get_or_404(_groups_with_members(scoped), "affinity group", pk=group_id)
    back = _affinity_groups_url(project)
    if request.method == "GET":
        return _page(request, project, "compute/dashboard/affinity_group_delete.html", {"group": group})
    return performed(
        request,
        lambda: affinity.delete_affinity_group(request.actor, group),
        done=back,
        kept=back,
        message=f"Affinity group {group.name} deleted.",
    )


@require_GET
@portal_view(admin=True)
def admin_instance_list(request):
    """Every instance the admin may see; ?vm_state= and ?host= (a host's name) narrow the list.

    Only those who may see hosts see the host column; for anyone else a host filter,
    whatever it names, finds the host nowhere, so it tells nothing about the hosts.
    """
    principal = request.actor.principal
    instances = selectors.instances_for(principal).select_related("project__domain")
    shown = request.GET.get("vm_state")
    if shown in states.VM_STATES:
        instances = instances.filter(vm_state=shown)
    else:
        instances = instances.exclude(vm_state=states.DELETED)
    host = request.GET.get("host", "").strip()
    if host:
        instances = instances.filter(host__in=hosts_for(principal).filter(name=host))
    context = {
        "sees_hosts": sees_hosts(principal),
        "page": page_of(request, instances.order_by("project__domain__path", "project__name", "name")),
        "vm_states": states.VM_STATES,
        "shown": shown,
        "host": host,
    }
    return render_page(request, "compute/admin/instances.html", context, area="admin")
