"""The portal's own navigation and overview cards, registered like any other app's."""

from django.db.models import Count
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.audit.selectors import events_for
from apps.identity import selectors
from apps.jobs.models import Job
from apps.jobs.selectors import jobs_for

from .extensions import ADMIN, DASHBOARD, register_card, register_nav

for _label, _url_name, _order in [
    ("Overview", "portal:admin-overview", 0),
    ("Domains", "portal:domain-list", 10),
    ("Projects", "portal:project-list", 20),
    ("Users", "portal:user-list", 30),
    ("Quotas", "portal:admin-quotas", 35),
    ("Roles and rules", "portal:role-list", 40),
    ("Audit log", "portal:admin-audit", 90),
]:
    register_nav(ADMIN, _label, _url_name, order=_order)

for _label, _url_name, _order in [
    ("Overview", "portal:project-overview", 0),
    ("Members", "portal:project-members", 80),
    ("Activity", "portal:project-audit", 90),
]:
    register_nav(DASHBOARD, _label, _url_name, order=_order)


def identity_card(request, project):
    principal = request.actor.principal
    return {
        "rows": [
            ("Domains", selectors.domains_for(principal).count()),
            ("Projects", selectors.projects_for(principal).count()),
            ("Users", selectors.users_for(principal).count()),
        ],
        "link": ("All projects", reverse("portal:project-list")),
    }


def jobs_card(request, project):
    counts = dict(
        jobs_for(request.actor.principal)
        .filter(state__in=[Job.PENDING, Job.RUNNING])
        .values_list("state")
        .annotate(n=Count("id"))
    )
    return {"rows": [("Waiting", counts.get(Job.PENDING, 0)), ("Running", counts.get(Job.RUNNING, 0))]}


def failures_card(request, project):
    failures = events_for(request.actor.principal).filter(outcome=AuditEvent.FAILURE)[:5]
    return {
        "rows": [(f"{e.action} by {e.actor_name}", e.error_code or "failed") for e in failures],
        "empty": "No failed operations.",
        "link": ("All failures", reverse("portal:admin-audit") + "?outcome=failure"),
    }


register_card(ADMIN, "identity", title="Identity", context=identity_card, order=0)
register_card(ADMIN, "jobs", title="Jobs", context=jobs_card, order=50)
register_card(ADMIN, "failures", title="Recent failures", context=failures_card, order=90)
