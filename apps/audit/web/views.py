"""The audit log with filters and pagination: the admin's whole subtree, or one project's entries."""

import json

from django.views.decorators.http import require_GET

from apps.audit.selectors import details_for, events_for
from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.flow import slice_page
from apps.core.web.frame import dashboard_project
from apps.core.web.rendering import render_page

from .forms import AuditFilterForm


def _render_log(request, events, template, **frame):
    form = AuditFilterForm(request.GET or None)
    rows, page, has_next = slice_page(request, form.apply(events))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "events": rows, "page": page, "has_next": has_next, "query": query.urlencode()}
    return render_page(request, template, context, **frame)


@require_GET
@portal_view(admin=True)
def admin_log(request):
    return _render_log(request, events_for(request.actor.principal), "audit/admin/log.html", area="admin")


@require_GET
@portal_view(admin=True)
def admin_event(request, event_id):
    event = get_or_404(events_for(request.actor.principal), "audit event", pk=event_id)
    details = json.dumps(details_for(request.actor.principal, event), indent=2, sort_keys=True)
    return render_page(request, "audit/admin/event.html", {"event": event, "details": details}, area="admin")


@require_GET
@portal_view
def project_log(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    return _render_log(
        request, events_for(scoped), "audit/dashboard/log.html", area="dashboard", project=project
    )
