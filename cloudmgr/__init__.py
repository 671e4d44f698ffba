"""cloudmgr controller: the Django project that owns the cloud's state and API."""

from .celery import app as celery_app

__all__ = ["celery_app"]
