from django.apps import AppConfig


class InfrastructureConfig(AppConfig):
    name = "apps.infrastructure"
    label = "infrastructure"

    def ready(self):
        from django.db.models import GenericIPAddressField

        from apps.core.policy import register_action
        from apps.jobs.registry import register_periodic

        from .hostwork.dispatch import redispatch_jobs
        from .lookups import InetWithin
        from .periodic import mark_hosts_down, refresh_host_limits
        from .policy_actions import POLICY_ACTIONS
        from .web import portal

        for name, kind, description in POLICY_ACTIONS:
            register_action(name, kind, description)
        GenericIPAddressField.register_lookup(InetWithin)
        register_periodic("infrastructure.mark_silent_hosts_down", mark_hosts_down)
        register_periodic("infrastructure.refresh_host_limits", refresh_host_limits)
        register_periodic("infrastructure.redispatch_host_jobs", redispatch_jobs)
        portal.register()
