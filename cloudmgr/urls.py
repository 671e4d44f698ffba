"""Top-level URLs: the health check, the REST API under /api/v1/ (the portal and dashboard mount here too)."""

from django.urls import include, path

from apps.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(("cloudmgr.api_urls", "api"), namespace="api")),
    path("", include("apps.portal.urls")),
]
