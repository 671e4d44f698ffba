"""What the audit log adds to the portal: its pages' navigation and the recent failures card."""

from django.urls import reverse

from apps.core.web.extensions import ADMIN, DASHBOARD, register_card, register_nav

from ..models import AuditEvent
from ..selectors import events_for


def failures_card(request, project):
    failures = events_for(request.actor.principal).filter(outcome=AuditEvent.FAILURE)[:5]
    return {
        "rows": [(f"{e.action} by {e.actor_name}", e.error_code or "failed") for e in failures],
        "empty": "No failed operations.",
        "link": ("All failures", reverse("portal:admin-audit") + "?outcome=failure"),
    }


def register():
    register_nav(ADMIN, "Audit log", "portal:admin-audit", order=90)
    register_nav(DASHBOARD, "Activity", "portal:project-audit", order=90)
    register_card(ADMIN, "failures", title="Recent failures", context=failures_card, order=90)
