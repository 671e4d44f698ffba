"""Periodic work of monitoring: rollups, partitions and retention, alerts (each once across controllers)."""

from apps.jobs.registry import periodic

from .alerts import evaluate_alerts
from .retention import apply_retention
from .rollup import run_rollups


def register():
    periodic("monitoring.rollup")(run_rollups)
    periodic("monitoring.retention")(apply_retention)
    periodic("monitoring.alerts")(evaluate_alerts)
