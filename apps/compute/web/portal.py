"""What compute adds to the portal: dashboard pages, all instances for admins, sections of the host page."""

from django.db.models import Count, Q
from django.urls import reverse

from apps.core.web.extensions import ADMIN, DASHBOARD, register_card, register_nav

from .. import selectors, states
from . import host_sections, prefetch


def _counts(instances):
    return instances.aggregate(
        live=Count("pk", filter=~Q(vm_state=states.DELETED)),
        active=Count("pk", filter=Q(vm_state=states.ACTIVE)),
        busy=Count("pk", filter=Q(task_state__isnull=False)),
        error=Count("pk", filter=Q(vm_state=states.ERROR)),
    )


def _rows(counts):
    return [
        ("Instances", counts["live"]),
        ("Active", counts["active"]),
        ("In an action", counts["busy"]),
        ("In error", counts["error"]),
    ]


def dashboard_card(request, project):
    counts = _counts(selectors.instances_for(request.actor.principal).filter(project=project))
    return {"rows": _rows(counts), "link": ("Instances", reverse("compute:instance-list", args=[project.pk]))}


def admin_card(request, project):
    counts = _counts(selectors.instances_for(request.actor.principal))
    return {"rows": _rows(counts), "link": ("All instances", reverse("compute:admin-instance-list"))}


def register():
    register_nav(DASHBOARD, "Instances", "compute:instance-list", order=20)
    register_nav(DASHBOARD, "Keypairs", "compute:keypair-list", order=25)
    register_nav(DASHBOARD, "Affinity groups", "compute:affinity-group-list", order=26)
    register_nav(ADMIN, "Instances", "compute:admin-instance-list", order=45)
    register_nav(ADMIN, "Offerings", "compute:offering-list", order=46)
    register_card(DASHBOARD, "instances", title="Instances", context=dashboard_card, order=20)
    register_card(ADMIN, "instances", title="Instances", context=admin_card, order=30)
    host_sections.register()
    prefetch.register()
