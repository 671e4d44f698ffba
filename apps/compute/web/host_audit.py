"""The admin portal's host audit page: open (or resolved) findings per host, and a button to audit now."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.extensions import ADMIN, register_nav
from apps.core.web.flow import page_of
from apps.core.web.rendering import render_page
from apps.infrastructure.models import Host, HostAuditFinding
from apps.infrastructure.selectors import hosts_for

from ..host_audit import AUDIT_READ, findings_for, run_audit

app_name = "host_audit"

admin_view = portal_view(admin=True)


@require_GET
@admin_view
def finding_list(request):
    findings = findings_for(request.actor.principal).order_by("host__name", "kind", "subject")
    resolved = request.GET.get("resolved") == "true"
    findings = findings.filter(resolved_at__isnull=not resolved)
    if request.GET.get("host"):
        findings = findings.filter(host__name=request.GET["host"])
    if request.GET.get("kind"):
        findings = findings.filter(kind=request.GET["kind"])
    context = {
        "page": page_of(request, findings),
        "kinds": [k for k, _ in HostAuditFinding.KINDS],
        "hosts": hosts_for(request.actor.principal).filter(state__in=(Host.UP, Host.DOWN)),
        "resolved": resolved,
    }
    return render_page(request, "compute/admin/host_audit.html", context, area="admin")


@require_POST
@admin_view
def run_now(request):
    open_findings = run_audit(request.actor, hosts_for(request.actor.principal))
    messages.success(request, f"Audit done: {open_findings} open finding(s).")
    return redirect("host_audit:finding-list")


urlpatterns = [
    path("admin-portal/host-audit/", finding_list, name="finding-list"),
    path("admin-portal/host-audit/run/", run_now, name="run"),
]


def register():
    register_nav(
        ADMIN,
        "Host audit",
        "host_audit:finding-list",
        order=70,
        visible=lambda principal, project: principal.can(AUDIT_READ, PLATFORM),
    )
