from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"

    def ready(self):
        from agent import protocol
        from apps.infrastructure.agent_api import hooks

        from . import actions, periodic
        from .ingest import handle_metrics_report

        actions.register()
        periodic.register()
        hooks.register_message_handler(
            protocol.METRICS_REPORT_PATH, protocol.MetricsReport, handle_metrics_report
        )
