"""What monitoring adds to the portal: the admin portal's monitoring page and alerts card, the charts of
the dashboard's instance page, and the utilisation section of the admin portal's host page."""

from django.db.models import Count
from django.urls import reverse

from apps.compute.web.instance_pages import INSTANCE_PAGE
from apps.core.tree import PLATFORM
from apps.core.web.extensions import ADMIN, register_card, register_nav
from apps.core.web.sections import register_section
from apps.infrastructure.web.sections import register_host_section

from ..models import Alert
from ..policy_actions import ALERT_READ
from ..selectors import alerts_for
from .sections import host_utilisation, instance_usage


def alerts_card(request, project):
    """Open alerts by kind, for those who may read them."""
    principal = request.actor.principal
    if not principal.can(ALERT_READ, PLATFORM):
        return None
    open_alerts = alerts_for(principal).filter(resolved_at__isnull=True)
    counts = dict(open_alerts.values_list("kind").annotate(n=Count("id")).order_by())
    return {
        "rows": [(title, counts[kind]) for kind, title in Alert.TITLES.items() if counts.get(kind)],
        "empty": "No open alerts.",
        "link": ("Monitoring", reverse("monitoring:overview")),
    }


def register():
    register_nav(ADMIN, "Monitoring", "monitoring:overview", order=50)
    register_card(ADMIN, "alerts", title="Open alerts", context=alerts_card, order=10)
    register_section(
        INSTANCE_PAGE,
        "usage",
        title="Usage",
        template="monitoring/instance_usage.html",
        context=instance_usage,
        order=10,
    )
    register_host_section(
        "utilisation",
        title="Utilisation against allocation",
        template="monitoring/host_utilisation.html",
        context=host_utilisation,
        order=5,
    )
