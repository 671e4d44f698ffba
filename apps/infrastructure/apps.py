from django.apps import AppConfig


class InfrastructureConfig(AppConfig):
    name = "apps.infrastructure"
    label = "infrastructure"

    def ready(self):
        from apps.jobs.registry import register_periodic

        from . import actions, lookups, periodic  # noqa: F401  (registers actions, lookups, periodic work)
        from .hostwork.dispatch import redispatch_jobs
        from .web import portal

        register_periodic("infrastructure.redispatch_host_jobs", redispatch_jobs)
        portal.register()
