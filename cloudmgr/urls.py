"""Top-level URLs: the REST API under /api/v1/ (the portal and dashboard mount here too)."""

from django.urls import include, path

urlpatterns = [
    path("api/v1/", include(("cloudmgr.api_urls", "api"), namespace="api")),
]
