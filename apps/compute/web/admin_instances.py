"""Admin portal: every instance an admin may see, and an instance's admin page.

The admin page shows what the dashboard's does not: the host (to those who may
see hosts), the project by its domain path, the owner and the job history; it
offers the same actions, so an admin stays in the admin portal.
"""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.policy import Principal
from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.listing import Column, Listing
from apps.core.web.rendering import render_page
from apps.core.web.sections import page_sections
from apps.identity.selectors import users_for
from apps.identity.web.selectors import project_labels
from apps.infrastructure.selectors import hosts_for, sees_hosts

from .. import selectors, states
from . import instance_pages
from .forms import RebuildForm, focus_first_error
from .instance_pages import ADMIN, InstancePages

JOBS_SHOWN = 20
admin_view = portal_view(admin=True)


def columns(principal):
    """The list's columns; the host's only for those who may see hosts."""
    host = (Column("host", "Host", ("host__name",)),) if sees_hosts(principal) else ()
    return (
        Column("name", "Name", ("name",)),
        Column("project", "Project", ("project__domain__path", "project__name")),
        Column("state", "State", ("vm_state", "task_state")),
        Column("size", "Size", ("vcpus", "ram_mb")),
        *host,
        Column("created", "Created", ("created_at",)),
    )


@require_GET
@admin_view
def admin_instance_list(request):
    """Every instance the admin may see; ?vm_state=, ?host= (a host's name) and ?q= narrow the list.

    Only those who may see hosts see the host column and search by host; for anyone else a
    host filter, whatever it names, finds the host nowhere, so it tells nothing about the hosts.
    """
    principal = request.actor.principal
    instances = selectors.instances_for(principal)
    shown = request.GET.get("vm_state")
    if shown in states.VM_STATES:
        instances = instances.filter(vm_state=shown)
    else:
        instances = instances.exclude(vm_state=states.DELETED)
    host = request.GET.get("host", "").strip()
    if host:
        instances = instances.filter(host__in=hosts_for(principal).filter(name=host))
    searched = ("name", "project__name", *(("host__name",) if sees_hosts(principal) else ()))
    listing = Listing(request, instances, columns=columns(principal), default="name", search=searched)
    labels = project_labels(principal, [instance.project for instance in listing.rows])
    context = {
        "listing": listing,
        "rows": [(instance, labels[instance.project_id]) for instance in listing.rows],
        "sees_hosts": sees_hosts(principal),
        "vm_states": states.VM_STATES,
        "shown": shown,
        "host": host,
    }
    return render_page(request, "compute/admin/instances.html", context, area="admin")


def _instance(request, instance_id):
    return get_or_404(selectors.instances_for(request.actor.principal), "instance", pk=instance_id)


def _scoped(request, instance):
    """The admin's principal narrowed to the instance's project: what the project may use (images)."""
    principal = request.actor.principal
    return Principal(request.user, scope_project=instance.project, grants=principal.grants)


def _pages(instance):
    return InstancePages(ADMIN, instance)


def _jobs(request, instance):
    """The instance's latest jobs, each with the username of who started it (when the admin sees them)."""
    jobs = list(instance_pages.instance_jobs(request, instance)[:JOBS_SHOWN])
    names = _usernames(request, {job.created_by_id for job in jobs} | {instance.created_by_id})
    return [(job, names.get(job.created_by_id)) for job in jobs], names


def _usernames(request, user_ids):
    ids = [user_id for user_id in user_ids if user_id is not None]
    return dict(users_for(request.actor.principal).filter(pk__in=ids).values_list("pk", "username"))


@require_GET
@admin_view
def admin_instance_detail(request, instance_id):
    return _render_detail(request, _instance(request, instance_id))


def _render_detail(request, instance, *, rebuild_form=None, snapshot_form=None):
    for refused in (rebuild_form, snapshot_form):
        if refused is not None:
            focus_first_error(refused)
    principal = request.actor.principal
    scoped = _scoped(request, instance)
    jobs, names = _jobs(request, instance)
    job = jobs[0][0] if jobs else None
    context = {
        **instance_pages.state_context(scoped, instance, job, _pages(instance), snapshot_form),
        "job": job,
        "jobs": jobs,
        "owner": names.get(instance.created_by_id),
        "project_label": project_labels(principal, [instance.project])[instance.project_id],
        "sees_hosts": sees_hosts(principal),
        "rebuild_form": rebuild_form or RebuildForm(scoped, prefix="rebuild"),
        "sections": page_sections(instance_pages.INSTANCE_PAGE, request, instance),
    }
    return render_page(request, "compute/admin/instance.html", context, area="admin")


def _render_refused(request, instance, **forms):
    return _render_detail(request, _instance(request, instance.pk), **forms)


@require_GET
@admin_view
def admin_instance_state(request, instance_id):
    """The page's state and actions alone, polled while an action is under way."""
    instance = _instance(request, instance_id)
    job = instance_pages.latest_job(request, instance)
    context = instance_pages.state_context(_scoped(request, instance), instance, job, _pages(instance))
    return render(request, "compute/dashboard/instance_state.html", context)


@require_POST
@admin_view
def admin_instance_action(request, instance_id):
    instance = _instance(request, instance_id)
    return instance_pages.start_action(request, instance, _pages(instance))


@require_http_methods(["GET", "POST"])
@admin_view
def admin_instance_delete(request, instance_id):
    instance = _instance(request, instance_id)
    done = reverse("compute:admin-instance-list")
    return instance_pages.delete_confirmed(request, instance, _pages(instance), done=done)


@require_http_methods(["GET", "POST"])
@admin_view
def admin_instance_rebuild(request, instance_id):
    instance = _instance(request, instance_id)
    return instance_pages.rebuild_submitted(
        request,
        _scoped(request, instance),
        instance,
        _pages(instance),
        lambda form: _render_refused(request, instance, rebuild_form=form),
    )


@require_http_methods(["GET", "POST"])
@admin_view
def admin_instance_snapshot(request, instance_id):
    instance = _instance(request, instance_id)
    return instance_pages.snapshot_submitted(
        request,
        instance,
        _pages(instance),
        lambda form: _render_refused(request, instance, snapshot_form=form),
    )
