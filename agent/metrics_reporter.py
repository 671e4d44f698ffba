"""The sampling thread: every ``metrics_seconds`` it samples, and sends the report to the controller.

A report that cannot be delivered is dropped (logged): the next period's
report follows, and history that must survive an outage of the controller is
Prometheus's job (it scrapes the agent itself).
"""

import logging
import threading

from . import protocol
from .controller_client import ControllerError

log = logging.getLogger(__name__)


class MetricsReporter(threading.Thread):
    def __init__(self, settings, sampler, client):
        super().__init__(name="agent-metrics", daemon=True)
        self.settings = settings
        self.sampler, self.client = sampler, client
        self.stopping = threading.Event()

    def run(self):
        self.round()
        while not self.stopping.wait(self.settings.metrics_seconds):
            self.round()

    def round(self):
        try:
            report = self.sampler.sample()
        except Exception:
            log.exception("sampling failed")
            return
        if report is None or not self.settings.metrics_to_controller:
            return
        try:
            self.client.post_message(protocol.METRICS_REPORT_PATH, report)
        except ControllerError as exc:
            log.warning("the metrics report of %d instances was dropped: %s", len(report.instances), exc)
