"""What compute shows on the admin portal's host page: the instances on the host and its audit findings."""

from urllib.parse import urlencode

from django.urls import reverse

from apps.core.tree import PLATFORM
from apps.identity.web.selectors import project_labels
from apps.infrastructure.web.sections import register_host_section

from .. import selectors, states
from ..host_audit import AUDIT_READ, findings_for

INSTANCES_SHOWN = 50
FINDINGS_SHOWN = 20


def _filtered(url_name, **query):
    return f"{reverse(url_name)}?{urlencode(query)}"


def instances_on_host(request, host):
    instances = (
        selectors.instances_for(request.actor.principal)
        .filter(host=host)
        .exclude(vm_state=states.DELETED)
        .order_by("project__domain__path", "project__name", "name")
    )
    shown = list(instances[:INSTANCES_SHOWN])
    labels = project_labels(request.actor.principal, [instance.project for instance in shown])
    return {
        "rows": [(instance, labels[instance.project_id]) for instance in shown],
        "count": instances.count(),
        "all_url": _filtered("compute:admin-instance-list", host=host.name),
    }


def findings_on_host(request, host):
    """The host's open findings, latest first; left out for someone who may not read the audit."""
    if not request.actor.can(AUDIT_READ, PLATFORM):
        return None
    findings = findings_for(request.actor.principal).filter(host=host, resolved_at__isnull=True)
    return {
        "findings": findings.order_by("-last_seen", "kind")[:FINDINGS_SHOWN],
        "count": findings.count(),
        "all_url": _filtered("host_audit:finding-list", host=host.name),
    }


def register():
    register_host_section(
        "instances",
        title="Instances on this host",
        template="compute/admin/host_instances.html",
        context=instances_on_host,
        order=10,
    )
    register_host_section(
        "findings",
        title="Open audit findings",
        template="compute/admin/host_findings.html",
        context=findings_on_host,
        order=20,
    )
