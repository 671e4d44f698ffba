"""Routes of the agent endpoint, mounted at agent.protocol.AGENT_API_PREFIX.

URLs are read after every app's ready(), so the messages other apps registered in
`hooks` are served here too, each at its own protocol path.
"""

from django.urls import path

from agent import protocol

from . import hooks, views
from .images import AgentImageDataView

app_name = "agent"

urlpatterns = [
    path("enroll", views.enroll_view, name="enroll"),
    path("heartbeat", views.heartbeat_view, name="heartbeat"),
    path("task-reports", views.task_report_view, name="task-report"),
    path("images/<uuid:image_id>/data", AgentImageDataView.as_view(), name="image-data"),
    *(
        path(message_path.removeprefix(protocol.AGENT_API_PREFIX + "/"), views.message_view(schema, handler))
        for message_path, (schema, handler) in hooks.message_handlers().items()
    ),
]
