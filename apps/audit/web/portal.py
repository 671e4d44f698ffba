"""What the audit log adds to the portal: its pages' navigation and the recent failures card."""

from django.urls import reverse

from apps.core.policy import registered_actions
from apps.core.web.extensions import ADMIN, DASHBOARD, register_card, register_nav

from ..models import AuditEvent
from ..selectors import events_for


def action_words(action):
    """What an action does, in the words it was registered with ("Launch an instance"), else its name."""
    registered = registered_actions().get(action)
    return registered[1] if registered else action


def failures_card(request, project):
    failures = events_for(request.actor.principal).filter(outcome=AuditEvent.FAILURE)[:5]
    return {
        "failures": [{"event": event, "what": action_words(event.action)} for event in failures],
        "link": ("All failures", reverse("portal:admin-audit") + "?outcome=failure"),
    }


def register():
    register_nav(ADMIN, "Audit log", "portal:admin-audit", order=90)
    register_nav(DASHBOARD, "Activity", "portal:project-audit", order=90)
    register_card(
        ADMIN,
        "failures",
        title="Recent failures",
        context=failures_card,
        order=90,
        template="audit/admin/failures_card.html",
    )
