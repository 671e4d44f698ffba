from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"

    def ready(self):
        from . import actions, periodic  # noqa: F401  (policy actions, the rollup's periodic work)
