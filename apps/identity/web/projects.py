"""Admin portal: projects, one project with its members and quotas, and their changes."""

from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.web.decorators import portal_view
from apps.core.web.flow import Confirmation, confirmed, handled
from apps.core.web.listing import Column, Listing
from apps.core.web.rendering import render_page
from apps.identity import selectors
from apps.identity.ownership import in_words, owned_by_projects
from apps.identity.services import projects

from .forms import EditForm, ProjectCreateForm
from .sections import sections_for
from .selectors import path_labels

admin_view = portal_view(admin=True)


def admin_project(request, project_id):
    return selectors.get_or_404(selectors.projects_for(request.actor.principal), "project", pk=project_id)


def detail_url(project):
    return reverse("portal:project-detail", args=[project.pk])


@require_GET
@admin_view
def project_list(request):
    return _render_list(request, ProjectCreateForm(request.actor.principal))


COLUMNS = (
    Column("name", "Project", ("name",)),
    Column("domain", "Domain", ("domain__path",)),
    Column("state", "State", ("enabled",)),
    Column("created", "Created", ("created_at",)),
)


def _render_list(request, form):
    principal = request.actor.principal
    listing = Listing(
        request,
        selectors.projects_for(principal),
        columns=COLUMNS,
        default="name",
        search=("name", "description", "domain__name"),
    )
    labels = path_labels(principal, list({p.domain_id: p.domain for p in listing.rows}.values()))
    rows = [(project, labels[project.domain_id]) for project in listing.rows]
    context = {"listing": listing, "rows": rows, "form": form}
    return render_page(request, "identity/admin/projects.html", context, area="admin")


@require_http_methods(["GET", "POST"])
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
        page=reverse("portal:project-list"),
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


@require_http_methods(["GET", "POST"])
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
        page=detail_url(project),
    )


@require_http_methods(["GET", "POST"])
@admin_view
def project_delete(request, project_id):
    project = admin_project(request, project_id)
    owned = in_words(owned_by_projects([project.pk]))
    consequences = [
        f"Project {project.name} is removed for good, with its quotas and the roles its members hold on "
        "it; its audit entries stay."
    ]
    if owned:
        consequences.append(f"It still owns {owned}: the deletion is refused until they are gone.")
    confirmation = Confirmation(
        title=f"Delete project {project.name}?",
        button=f"Delete project {project.name}",
        consequences=tuple(consequences),
        cancel=detail_url(project),
    )
    return confirmed(
        request,
        confirmation,
        lambda: projects.delete_project(request.actor, project),
        done=reverse("portal:project-list"),
        kept=detail_url(project),
        message=f"Project {project.name} deleted.",
        area="admin",
    )
