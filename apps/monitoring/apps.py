from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"

    def ready(self):
        from agent import protocol
        from apps.core.policy import register_action
        from apps.infrastructure.agent_api import hooks
        from apps.jobs.registry import register_periodic

        from .alerts import evaluate_alerts
        from .ingest import handle_metrics_report
        from .policy_actions import POLICY_ACTIONS
        from .retention import apply_retention
        from .rollup import run_rollups
        from .web import portal

        for name, kind, description in POLICY_ACTIONS:
            register_action(name, kind, description)
        register_periodic("monitoring.rollup", run_rollups)
        register_periodic("monitoring.retention", apply_retention)
        register_periodic("monitoring.alerts", evaluate_alerts)
        hooks.register_message_handler(
            protocol.METRICS_REPORT_PATH, protocol.MetricsReport, handle_metrics_report
        )
        portal.register()
