"""Tenant dashboard: a project's overview, with its quota usage and the cards other apps add."""

from django.views.decorators.http import require_GET

from apps.core.web import extensions
from apps.core.web.decorators import portal_view
from apps.core.web.frame import dashboard_project
from apps.core.web.rendering import render_page
from apps.quotas.web.sections import usage_rows


def _page(request, project, template, context):
    return render_page(request, template, context, area="dashboard", project=project)


@require_GET
@portal_view
def overview(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    rows = usage_rows(scoped, project)
    in_use = [row for row in rows if row["used"] and not row["unlimited"]]
    # The chart's labels are the words of the list beside it.
    chart = {"labels": [row["label"] for row in in_use], "values": [row["percent"] for row in in_use]}
    context = {
        "quota_rows": rows,
        "chart": chart,
        "cards": extensions.cards(extensions.DASHBOARD, request, project),
    }
    return _page(request, project, "portal/dashboard/overview.html", context)
