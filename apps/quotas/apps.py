from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "apps.quotas"
    label = "quotas"

    def ready(self):
        from apps.core.policy import ADMINISTER, PLATFORM_KIND, READ, register_action
        from apps.identity import signals
        from apps.identity.ownership import register_project_owner

        from . import receivers
        from .services import owned_claims
        from .web import portal

        register_action("quotas.quota.read", READ, "See limits and usage")
        register_action("quotas.quota.update", ADMINISTER, "Set a limit")
        register_action("quotas.default.update", PLATFORM_KIND, "Set the default project limits")
        register_project_owner("resources", owned_claims)
        portal.register()
        for signal, receiver in [
            (signals.domain_created, receivers.domain_created),
            (signals.project_created, receivers.project_created),
            (signals.domain_deleting, receivers.domain_deleting),
            (signals.project_deleting, receivers.project_deleting),
            (signals.project_moving, receivers.project_moving),
        ]:
            signal.connect(receiver, dispatch_uid=f"quotas.{receiver.__name__}")
