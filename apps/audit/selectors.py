"""Audit reads: admins see their subtree, tenants their own project's events.

An event's platform details (host names) are shown only to those who read the platform's events.
"""

from apps.core.scoping import visible
from apps.core.tree import PLATFORM

from .models import AuditEvent
from .recorder import PLATFORM_DETAILS

READ = "audit.event.read"


def events_for(principal):
    return visible(
        AuditEvent.objects.all(),
        principal,
        READ,
        domain_path="domain_path",
        project="project_id",
    )


def details_for(principal, event):
    """The event's details as `principal` may see them: its platform details (host names) only for
    those who may read the platform's events, never for tenants reading their project's."""
    if PLATFORM_DETAILS in event.details and not principal.can(READ, PLATFORM):
        return {key: value for key, value in event.details.items() if key != PLATFORM_DETAILS}
    return event.details
