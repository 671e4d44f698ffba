"""The Celery application: only the wire from the controller to the host agents.

The controller sends agent tasks by name to `host.<hostname>` queues; it runs no
Celery worker itself (controller-side work uses the PostgreSQL job queue).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudmgr.settings")

app = Celery("cloudmgr")
app.config_from_object("django.conf:settings", namespace="CELERY")
