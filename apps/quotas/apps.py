from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "apps.quotas"
    label = "quotas"

    def ready(self):
        from apps.identity.ownership import register_project_owner
        from apps.identity.policy import ADMINISTER, PLATFORM_KIND, READ, register_action

        from .services import owned_claims

        register_action("quotas.quota.read", READ, "See limits and usage")
        register_action("quotas.quota.update", ADMINISTER, "Set a limit")
        register_action("quotas.default.update", PLATFORM_KIND, "Set the default project limits")
        register_project_owner("resources", owned_claims)
