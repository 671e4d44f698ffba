"""WSGI entry point, served by `manage.py runcontroller` (cheroot)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudmgr.settings")

application = get_wsgi_application()
