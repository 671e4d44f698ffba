"""Sending task reports to the controller, with an on-disk outbox for final outcomes.

A final report ("succeeded"/"failed") that cannot be delivered now is written to
the outbox and sent again by the housekeeping loop; progress reports are
best effort. A report the controller answers with a 4xx is dropped: it will
never accept it (e.g. a task that is not this host's).
"""

import json
import logging
import os
import time
from pathlib import Path

from . import protocol
from .controller_client import ControllerError
from .instance_files import PRIVATE_DIR_MODE, ensure_dir

log = logging.getLogger(__name__)

RETRY_DELAYS_SECONDS = (0.2, 1.0)


class Reporter:
    def __init__(self, client, outbox_dir):
        self.client = client
        self.outbox = ensure_dir(Path(outbox_dir), PRIVATE_DIR_MODE)
        self.retry_delays = RETRY_DELAYS_SECONDS

    def _post(self, report):
        """True when delivered or refused for good; False when worth retrying later."""
        try:
            self.client.post_message(protocol.TASK_REPORT_PATH, report)
            return True
        except ControllerError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                log.error("the controller refused the report of task %s: %s", report.task_id, exc)
                return True
            log.warning("could not send the report of task %s: %s", report.task_id, exc)
            return False

    def send(self, report, durable=True):
        if self._post(report):
            return
        if not durable:
            return
        for delay in self.retry_delays:
            time.sleep(delay)
            if self._post(report):
                return
        path = self.outbox / f"{report.task_id}-{report.state}.json"
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(report.to_dict()))
        os.rename(temp, path)

    def flush(self):
        """Send what the outbox holds, oldest first."""
        for path in sorted(self.outbox.glob("*.json"), key=lambda p: p.stat().st_mtime):
            try:
                report = protocol.TaskReport.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError):
                path.unlink(missing_ok=True)
                continue
            if not self._post(report):
                return
            path.unlink(missing_ok=True)
