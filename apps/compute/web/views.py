"""Dashboard pages of instances, keypairs and affinity groups (the admin portal's are in admin_instances.py).

Thin views over the services the API calls; reads go through the scoped
selectors, with the principal narrowed to the dashboard's project.
"""

import base64
import uuid

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import NotFound
from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.flow import Confirmation, confirmed, handled
from apps.core.web.frame import dashboard_project
from apps.core.web.rendering import render_page
from apps.core.web.sections import page_sections
from apps.jobs.models import Job
from apps.jobs.selectors import jobs_for, result_visible
from apps.jobs.waiting import wait_for_job
from apps.networks.selectors import addresses_of, usable_networks

from .. import selectors, states
from ..interfaces import attach_interface
from ..services import affinity, keypairs, lifecycle
from ..services.instances import create_instance
from . import instance_pages, interfaces
from .forms import (
    AffinityGroupForm,
    AttachInterfaceForm,
    KeypairForm,
    LaunchForm,
    RebuildForm,
    focus_first_error,
)
from .instance_pages import InstancePages

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
    job = instance_pages.latest_job(request, instance)
    pages = InstancePages(instance_pages.DASHBOARD, instance)
    context = {
        **instance_pages.state_context(scoped, instance, job, pages, snapshot_form),
        "job": job,
        "rebuild_form": rebuild_form or RebuildForm(scoped, prefix="rebuild"),
        **interfaces.context(request, project, instance, interface_form),
        "sections": page_sections(instance_pages.INSTANCE_PAGE, request, instance),
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
    pages = InstancePages(instance_pages.DASHBOARD, instance)
    job = instance_pages.latest_job(request, instance)
    context = instance_pages.state_context(scoped, instance, job, pages)
    return _fragment(request, project, "compute/dashboard/instance_state.html", context)


@require_POST
@portal_view
def instance_action(request, project_id, instance_id):
    """Start an action; a refusal (the state moved on meanwhile) is said in a message on the page."""
    _, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    return instance_pages.start_action(request, instance, InstancePages(instance_pages.DASHBOARD, instance))


@require_http_methods(["GET", "POST"])
@portal_view
def instance_delete(request, project_id, instance_id):
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    pages = InstancePages(instance_pages.DASHBOARD, instance)
    done = reverse("compute:instance-list", args=[project.pk])
    return instance_pages.delete_confirmed(request, instance, pages, done=done, project=project)


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


@require_http_methods(["GET", "POST"])
@portal_view
def instance_detach_interface(request, project_id, instance_id, port_id):
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    return interfaces.detach_confirmed(request, project, instance, port_id, _detail_url(project, instance))


@require_http_methods(["GET", "POST"])
@portal_view
def instance_rebuild(request, project_id, instance_id):
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    return instance_pages.rebuild_submitted(
        request,
        scoped,
        instance,
        InstancePages(instance_pages.DASHBOARD, instance),
        lambda form: _render_refused(request, project, scoped, instance, rebuild_form=form),
    )


@require_http_methods(["GET", "POST"])
@portal_view
def instance_snapshot(request, project_id, instance_id):
    """Save the root disk into a new image of the project; the page then shows the job and the image."""
    project, scoped = dashboard_project(request, project_id)
    instance = _instance(scoped, instance_id)
    return instance_pages.snapshot_submitted(
        request,
        instance,
        InstancePages(instance_pages.DASHBOARD, instance),
        lambda form: _render_refused(request, project, scoped, instance, snapshot_form=form),
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


def _render_keypairs(request, project, scoped, form, status=200, **shown_once):
    """`shown_once`: the keypair just generated and its private key, for this answer only."""
    context = {
        "keypairs": selectors.keypairs_for(scoped).order_by("name"),
        "form": form,
        "can_create": request.actor.can("compute.keypair.create", project.target()),
        **shown_once,
    }
    return _page(request, project, "compute/dashboard/keypairs.html", context, status)


@require_http_methods(["GET", "POST"])
@portal_view
def keypair_create(request, project_id):
    """A generated private key is in this answer only, shown and offered as `<name>.pem`: it is never
    stored, so never shown again, and the answer is not kept by the browser's cache."""
    project, scoped = dashboard_project(request, project_id)
    if request.method == "GET":
        return redirect("compute:keypair-list", project.pk)
    form = KeypairForm(request.POST)

    def create(data):
        return keypairs.create_keypair(
            request.actor,
            project,
            name=data["name"],
            public_key=data["public_key"] or None,
            key_type=data["key_type"],
        )

    if not form.submit(create):
        return _render_keypairs(request, project, scoped, form, status=form.error_status)
    keypair, private_key = form.result
    if private_key is None:
        messages.success(request, f"Keypair {keypair.name} imported.")
        return redirect("compute:keypair-list", project.pk)
    response = _render_keypairs(
        request,
        project,
        scoped,
        KeypairForm(),
        created=keypair,
        private_key=private_key,
        private_key_download=pem_download(private_key),
    )
    response["Cache-Control"] = "no-store"
    return response


def pem_download(private_key):
    """The private key as a data: address, so the page offers it as a file without anyone storing it."""
    return "data:application/x-pem-file;base64," + base64.b64encode(private_key.encode()).decode()


@require_http_methods(["GET", "POST"])
@portal_view
def keypair_delete(request, project_id, keypair_id):
    project, scoped = dashboard_project(request, project_id)
    keypair = get_or_404(selectors.keypairs_for(scoped), "keypair", pk=keypair_id)
    back = reverse("compute:keypair-list", args=[project.pk])
    confirmation = Confirmation(
        title=f"Delete keypair {keypair.name}?",
        button=f"Delete keypair {keypair.name}",
        consequences=(
            f"New instances can no longer be launched with {keypair.name}.",
            "Instances launched with it keep the key they were given: their guests still accept it.",
        ),
        cancel=back,
    )
    return confirmed(
        request,
        confirmation,
        lambda: keypairs.delete_keypair(request.actor, keypair),
        done=back,
        kept=back,
        message=f"Keypair {keypair.name} deleted; instances keep the key they were launched with.",
        area="dashboard",
        project=project,
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


@require_http_methods(["GET", "POST"])
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
        page=_affinity_groups_url(project),
    )


@require_http_methods(["GET", "POST"])
@portal_view
def affinity_group_delete(request, project_id, group_id):
    """GET asks for confirmation; POST deletes, or says why the service refused (instances still in it)."""
    project, scoped = dashboard_project(request, project_id)
    group = get_or_404(_groups_with_members(scoped), "affinity group", pk=group_id)
    back = _affinity_groups_url(project)
    consequences = [f"The {group.policy} group {group.name} is gone; launches can no longer choose it."]
    if group.members:
        names = ", ".join(instance.name for instance in group.members)
        consequences.append(
            f"It still holds {len(group.members)} instance{'s' if len(group.members) != 1 else ''}"
            f" ({names}): a group is deleted only once its instances are."
        )
    confirmation = Confirmation(
        title=f"Delete affinity group {group.name}?",
        button=f"Delete {group.name}",
        consequences=tuple(consequences),
        cancel=back,
    )
    return confirmed(
        request,
        confirmation,
        lambda: affinity.delete_affinity_group(request.actor, group),
        done=back,
        kept=back,
        message=f"Affinity group {group.name} deleted.",
        area="dashboard",
        project=project,
    )
