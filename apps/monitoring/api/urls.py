"""Monitoring's routes under /api/v1/."""

from django.urls import path

from .views import AlertListView, HostMetricsView, InstanceMetricsView

urlpatterns = [
    path("metrics/instances/<uuid:pk>/", InstanceMetricsView.as_view(), name="metrics-instance"),
    path("metrics/hosts/<uuid:pk>/", HostMetricsView.as_view(), name="metrics-host"),
    path("alerts/", AlertListView.as_view(), name="alert-list"),
]
