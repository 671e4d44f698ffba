"""Setting a domain's or a project's limits from its admin portal page (the quotas section's form)."""

from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled
from apps.identity.web import domains, projects

from .sections import limits_form, set_limit_of

admin_view = portal_view(admin=True)


@require_http_methods(["GET", "POST"])
@admin_view
def domain_limits(request, domain_id):
    domain = domains.admin_domain(request, domain_id)
    return handled(
        request,
        limits_form(request, domain),
        set_limit_of(request, domain),
        done=reverse("portal:domain-detail", args=[domain.pk]),
        message="Limits saved.",
        failed=lambda form: domains.render_detail(request, domain, limits=form),
        page=reverse("portal:domain-detail", args=[domain.pk]),
    )


@require_http_methods(["GET", "POST"])
@admin_view
def project_limits(request, project_id):
    project = projects.admin_project(request, project_id)
    return handled(
        request,
        limits_form(request, project),
        set_limit_of(request, project),
        done=projects.detail_url(project),
        message="Limits saved.",
        failed=lambda form: projects.render_detail(request, project, limits=form),
        page=projects.detail_url(project),
    )
