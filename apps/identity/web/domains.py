"""Admin portal: the domain tree, one domain, and its changes."""

from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.web.decorators import portal_view
from apps.core.web.flow import Confirmation, confirmed, handled
from apps.core.web.rendering import render_page
from apps.identity import selectors
from apps.identity.ownership import in_words, owned_by_domain
from apps.identity.services import domains

from .forms import DomainCreateForm, EditForm
from .sections import sections_for
from .selectors import domain_tree

admin_view = portal_view(admin=True)


def admin_domain(request, domain_id):
    return selectors.get_or_404(selectors.domains_for(request.actor.principal), "domain", pk=domain_id)


@require_GET
@admin_view
def domain_list(request):
    return _render_list(request, DomainCreateForm(request.actor.principal))


def _render_list(request, form):
    visible = list(selectors.domains_for(request.actor.principal))
    return render_page(
        request, "identity/admin/domains.html", {"tree": domain_tree(visible), "form": form}, area="admin"
    )


@require_http_methods(["GET", "POST"])
@admin_view
def domain_create(request):
    return handled(
        request,
        DomainCreateForm(request.actor.principal, request.POST),
        lambda data: domains.create_domain(
            request.actor, parent=data["parent"], name=data["name"], description=data["description"]
        ),
        done=lambda domain: reverse("portal:domain-detail", args=[domain.pk]),
        message=lambda domain: f"Domain {domain.name} created.",
        failed=lambda form: _render_list(request, form),
        page=reverse("portal:domain-list"),
    )


@require_GET
@admin_view
def domain_detail(request, domain_id):
    return render_detail(request, admin_domain(request, domain_id))


def render_detail(request, domain, *, edit_form=None, **bound):
    principal = request.actor.principal
    admin_target = domain.admin_target()
    context = {
        "domain": domain,
        "children": selectors.domains_for(principal).filter(parent=domain),
        "projects": selectors.projects_for(principal).filter(domain=domain),
        "users": selectors.users_for(principal).filter(domain=domain)[:100],
        "edit_form": edit_form or EditForm.of(domain),
        "can_edit": request.actor.can("identity.domain.update", admin_target),
        "can_delete": not domain.is_root and request.actor.can("identity.domain.delete", admin_target),
        "sections": sections_for(request, domain, **bound),
    }
    return render_page(request, "identity/admin/domain_detail.html", context, area="admin")


@require_http_methods(["GET", "POST"])
@admin_view
def domain_update(request, domain_id):
    domain = admin_domain(request, domain_id)
    detail = reverse("portal:domain-detail", args=[domain.pk])
    return handled(
        request,
        EditForm(request.POST),
        lambda data: domains.update_domain(request.actor, domain, **data),
        done=detail,
        message="Domain saved.",
        failed=lambda form: render_detail(request, domain, edit_form=form),
        page=detail,
    )


@require_http_methods(["GET", "POST"])
@admin_view
def domain_delete(request, domain_id):
    domain = admin_domain(request, domain_id)
    detail = reverse("portal:domain-detail", args=[domain.pk])
    owned = in_words(owned_by_domain(domain))
    consequences = [f"Domain {domain.name} and its settings and quotas are removed for good."]
    if owned:
        consequences.append(f"It still owns {owned}: the deletion is refused until they are gone.")
    confirmation = Confirmation(
        title=f"Delete domain {domain.name}?",
        button=f"Delete domain {domain.name}",
        consequences=tuple(consequences),
        cancel=detail,
    )
    return confirmed(
        request,
        confirmation,
        lambda: domains.delete_domain(request.actor, domain),
        done=reverse("portal:domain-list"),
        kept=detail,
        message=f"Domain {domain.name} deleted.",
        area="admin",
    )
