"""Routes of the agent endpoint, mounted at agent.protocol.AGENT_API_PREFIX."""

from django.urls import path

from . import views
from .images import AgentImageDataView

app_name = "agent"

urlpatterns = [
    path("enroll", views.enroll_view, name="enroll"),
    path("heartbeat", views.heartbeat_view, name="heartbeat"),
    path("task-reports", views.task_report_view, name="task-report"),
    path("images/<uuid:image_id>/data", AgentImageDataView.as_view(), name="image-data"),
]
