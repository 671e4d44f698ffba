from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"

    def ready(self):
        from apps.core.policy import register_action
        from apps.jobs.registry import register_periodic

        from .policy_actions import POLICY_ACTIONS
        from .services.cycle import run_periodic_cycle

        for name, kind, description in POLICY_ACTIONS:
            register_action(name, kind, description)
        register_periodic("billing.rollup_usage", run_periodic_cycle)
