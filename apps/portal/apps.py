from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "apps.portal"
    label = "portal"

    def ready(self):
        from . import builtin_extensions  # noqa: F401  (the portal's own pages and cards)
