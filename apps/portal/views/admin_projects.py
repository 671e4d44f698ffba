"""Admin portal: projects, one project with its members and quotas, and their changes."""

from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.identity import selectors
from apps.identity.services import projects

from ..decorators import portal_view
from ..forms.identity import EditForm, ProjectCreateForm
from ..rendering import render_page
from ..selectors import domain_labels
from .flow import handled, page_of, performed
from .quotas import limits_form, quota_context, set_limit_of

admin_view = portal_view(admin=True)


def _project(request, project_id):
    return selectors.get_or_404(selectors.projects_for(request.actor.principal), "project", pk=project_id)


def _detail_url(project):
    return reverse("portal:project-detail", args=[project.pk])


@require_GET
@admin_view
def project_list(request):
    return _render_list(request, ProjectCreateForm(request.actor.principal))


def _render_list(request, form):
    principal = request.actor.principal
    labels = domain_labels(list(selectors.domains_for(principal)))
    page = page_of(request, selectors.projects_for(principal).order_by("domain__path", "name"))
    rows = [(project, labels.get(project.domain_id, project.domain.name)) for project in page]
    return render_page(
        request, "portal/admin/projects.html", {"page": page, "rows": rows, "form": form}, area="admin"
    )


@require_POST
@admin_view
def project_create(request):
    return handled(
        request,
        ProjectCreateForm(request.actor.principal, request.POST),
        lambda data: projects.create_project(
            request.actor, domain=data["domain"], name=data["name"], description=data["description"]
        ),
        done=_detail_url,
        message=lambda project: f"Project {project.name} created.",
        failed=lambda form: _render_list(request, form),
    )


@require_GET
@admin_view
def project_detail(request, project_id):
    return _render_detail(request, _project(request, project_id))


def _render_detail(request, project, *, edit_form=None, limits=None):
    admin_target = project.admin_target()
    context = {
        "project": project,
        "assignments": selectors.assignments_for(request.actor.principal).filter(project=project),
        "edit_form": edit_form or EditForm.of(project),
        "can_edit": request.actor.can("identity.project.update", admin_target),
        "can_delete": request.actor.can("identity.project.delete", admin_target),
        "can_unassign": request.actor.can("identity.role_assignment.delete", admin_target),
        **quota_context(request, project, limits),
    }
    return render_page(request, "portal/admin/project_detail.html", context, area="admin")


@require_POST
@admin_view
def project_update(request, project_id):
    project = _project(request, project_id)
    return handled(
        request,
        EditForm(request.POST),
        lambda data: projects.update_project(request.actor, project, **data),
        done=_detail_url(project),
        message="Project saved.",
        failed=lambda form: _render_detail(request, project, edit_form=form),
    )


@require_POST
@admin_view
def project_limits(request, project_id):
    project = _project(request, project_id)
    return handled(
        request,
        limits_form(request, project),
        set_limit_of(request, project),
        done=_detail_url(project),
        message="Limits saved.",
        failed=lambda form: _render_detail(request, project, limits=form),
    )


@require_POST
@admin_view
def project_delete(request, project_id):
    project = _project(request, project_id)
    return performed(
        request,
        lambda: projects.delete_project(request.actor, project),
        done=reverse("portal:project-list"),
        kept=_detail_url(project),
        message=f"Project {project.name} deleted.",
    )
