"""The infrastructure app's routes of the agents' endpoint (composed in cloudmgr/agent_urls.py).

URLs are read after every app's ready(), so the messages and queries other apps
registered in `hooks` are served here too, each at its own protocol path.
"""

from django.urls import path

from agent import protocol

from . import hooks, views

urlpatterns = [
    path("enroll", views.enroll_view, name="enroll"),
    path("heartbeat", views.heartbeat_view, name="heartbeat"),
    path("task-reports", views.task_report_view, name="task-report"),
    *(
        path(message_path.removeprefix(protocol.AGENT_API_PREFIX + "/"), views.message_view(schema, handler))
        for message_path, (schema, handler) in hooks.message_handlers().items()
    ),
    *(
        path(route, views.query_view(handler), name=handler.__name__.replace("_", "-"))
        for route, handler in hooks.query_handlers().items()
    ),
]
