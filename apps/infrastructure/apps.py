from django.apps import AppConfig


class InfrastructureConfig(AppConfig):
    name = "apps.infrastructure"
    label = "infrastructure"

    def ready(self):
        from . import actions, lookups, periodic  # noqa: F401  (registers actions, lookups, periodic work)
        from .web import portal

        portal.register()
