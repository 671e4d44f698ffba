"""Admin portal: projects, one project with its members and quotas, and their changes."""

from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled, page_of, performed
from apps.core.web.rendering import render_page
from apps.identity import selectors
from apps.identity.services import projects

from .forms import EditForm, ProjectCreateForm
from .sections import sections_for
from .selectors import domain_labels

admin_view = portal_view(admin=True)


def admin_project(request, project_id):
    return selectors.get_or_404(selectors.projects_for(request.actor.principal), "project", pk=project_id)


def detail_url(project):
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
        request, "identity/admin/projects.html", {"page": page, "rows": rows, "form": form}, area="admin"
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
        done=detail_url,
        message=lambda project: f"Project {project.name} created.",
        failed=lambda form: _render_list(request, form),
    )


@require_GET
@admin_view
def project_detail(request, project_id):
    return render_detail(request, admin_project(request, project_id))


def render_detail(request, project, *, edit_form=None, **bound):
    admin_target = project.admin_target()
    context = {
        "project": project,
        "assignments": selectors.assignments_for(request.actor.principal).filter(project=project),
        "edit_form": edit_form or EditForm.of(project),
        "can_edit": request.actor.can("identity.project.update", admin_target),
        "can_delete": request.actor.can("identity.project.delete", admin_target),
        "can_unassign": request.actor.can("identity.role_assignment.delete", admin_target),
        "sections": sections_for(request, project, **bound),
    }
    return render_page(request, "identity/admin/project_detail.html", context, area="admin")


@require_POST
@admin_view
def project_update(request, project_id):
    project = admin_project(request, project_id)
    return handled(
        request,
        EditForm(request.POST),
        lambda data: projects.update_project(request.actor, project, **data),
        done=detail_url(project),
        message="Project saved.",
        failed=lambda form: render_detail(request, project, edit_form=form),
    )


@require_POST
@admin_view
def project_delete(request, project_id):
    project = admin_project(request, project_id)
    return performed(
        request,
        lambda: projects.delete_project(request.actor, project),
        done=reverse("portal:project-list"),
        kept=detail_url(project),
        message=f"Project {project.name} deleted.",
    )
