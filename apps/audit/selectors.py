"""Audit reads: admins see their subtree, tenants their own project's events."""

from apps.core.scoping import visible

from .models import AuditEvent


def events_for(principal):
    return visible(
        AuditEvent.objects.all(),
        principal,
        "audit.event.read",
        domain_path="domain_path",
        project="project_id",
    )
