"""The infrastructure app's routes of the agents' endpoint (composed in cloudmgr/agent_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("enroll", views.enroll_view, name="enroll"),
    path("heartbeat", views.heartbeat_view, name="heartbeat"),
    path("task-reports", views.task_report_view, name="task-report"),
]
