"""Top-level URLs: the health check, the REST API under /api/v1/ (the portal and dashboard mount here too)."""

from django.urls import include, path

from apps.core.views import healthz
from apps.monitoring.exposition import MetricsView

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Prometheus's scrape of the controller (cloud admins, or a scrape token).
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("api/v1/", include(("cloudmgr.api_urls", "api"), namespace="api")),
    # The agents' endpoint (agent.protocol.AGENT_API_PREFIX): signed by hosts, not for API clients.
    path("internal/agent/v1/", include("cloudmgr.agent_urls")),
    path("", include("apps.portal.urls")),
    path("", include("apps.images.urls")),
    path("", include("apps.compute.urls")),
    path("", include("apps.networks.urls")),
    path("", include("apps.infrastructure.urls")),
    path("", include("apps.compute.web.host_audit")),
    path("", include("apps.monitoring.urls")),
    path("", include("apps.billing.urls")),
]
