from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self):
        from apps.core.policy import READ, register_action
        from apps.jobs.registry import register_periodic

        from .periodic import purge_old_events
        from .web import portal

        register_action("audit.event.read", READ, "Read the audit log")
        register_periodic("audit.purge_old_events", purge_old_events)
        portal.register()
