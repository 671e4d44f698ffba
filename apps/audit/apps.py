from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self):
        from apps.identity.policy import READ, register_action

        from . import periodic  # noqa: F401

        register_action("audit.event.read", READ, "Read the audit log")
