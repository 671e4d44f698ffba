"""The audit log with filters and pagination: the admin's whole subtree, or one project's entries."""

import json

from django.views.decorators.http import require_GET

from apps.audit.selectors import details_for, events_for
from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.frame import dashboard_project
from apps.core.web.listing import Column, Listing
from apps.core.web.rendering import render_page

from .forms import AuditFilterForm

COLUMNS = (
    Column("when", "When (UTC)", ("timestamp",)),
    Column("who", "Who"),
    Column("action", "Action", ("action",)),
    Column("object", "Object"),
    Column("outcome", "Outcome"),
)
SEARCHED = ("actor_name", "object_repr", "action")


def _render_log(request, events, template, **frame):
    """Newest first; 50 a page, without counting the whole table (it only grows)."""
    form = AuditFilterForm(request.GET or None)
    listing = Listing(
        request,
        form.apply(events),
        columns=COLUMNS,
        default="when",
        descending=True,
        search=SEARCHED,
        counted=False,
    )
    return render_page(request, template, {"form": form, "listing": listing}, **frame)


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
